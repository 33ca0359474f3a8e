// Augment: random translations of the training images (a data-augmentation option; the
// paper trains on the images as they are).
//
// Why stateless: the shift of an example in an epoch is a hash of (seed, epoch, example), not
// a draw from the run's Rng. So it does not depend on which thread or rank relaxes the
// example or on where a run was stopped and resumed, and runs without shifts keep the Rng
// sequence (and the bits) they always had.
#pragma once
#include <cstdint>

namespace eqprop {

struct Shift {
  int dx = 0;  // columns to the right (negative: to the left)
  int dy = 0;  // rows down (negative: up)
};

// The shift of `example` in epoch `epoch` (0-based) of a run seeded with `seed`: dx and dy
// each uniform in [-max_shift, max_shift], independently. max_shift 0 gives {0, 0}.
Shift draw_shift(std::uint64_t seed, int epoch, int example, int max_shift);

// out = the 28 x 28 image `in` moved by s; pixels moved in from outside the frame are 0 (the
// background) and pixels moved out are lost. in and out must not overlap.
void shift_image(const std::uint8_t* in, Shift s, std::uint8_t* out);

}  // namespace eqprop
