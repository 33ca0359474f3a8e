#include "eqprop/version.hpp"

namespace eqprop {

// EQPROP_VERSION_STRING comes from meson.build (project version), so there is one place to bump.
const char* const kVersion = EQPROP_VERSION_STRING;

}  // namespace eqprop
