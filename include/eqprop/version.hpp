// The version of eqprop (meson.build's project version), for `eqprop --version`.
#pragma once

namespace eqprop {

extern const char* const kVersion;

}  // namespace eqprop
