// The checkpoint's payload: a TrainState as a Boost.Serialization binary archive (same machine
// kind), field by field, with the fields each format version added. Every length read is
// checked against the bytes left before anything is allocated.
#pragma once
#include <cstdint>
#include <string>

#include "eqprop/ep/train_state.hpp"

namespace eqprop {

std::string encode_payload(const TrainState& state, bool with_particles, std::uint32_t format);
// Throws std::exception (a range, length or archive error) on a payload it cannot decode, or
// bytes left over after the state.
TrainState decode_payload(const std::string& payload, bool with_particles, std::uint32_t format);

}  // namespace eqprop
