// Augment: random translations and left-right mirroring of the training images (options; the
// paper trains on the images as they are).
//
// Why stateless: the shift and the flip of an example in an epoch are hashes of (seed, epoch,
// example), not draws from the run's Rng. So they do not depend on which thread or rank
// relaxes the example or on where a run was stopped and resumed, and runs without them keep
// the Rng sequence (and the bits) they always had.
#pragma once
#include <cstdint>

namespace eqprop {

struct Shift {
  int dx = 0;         // columns to the right (negative: to the left)
  int dy = 0;         // rows down (negative: up)
  bool flip = false;  // mirrored left-right before the move
};

// The augmentation of `example` in epoch `epoch` (0-based) of a run seeded with `seed`: dx and
// dy each uniform in [-max_shift, max_shift], independently (max_shift 0: no move), and with
// `flip` a mirror with probability 1/2, drawn from a hash of its own (so adding flips leaves
// the shifts as they were).
Shift draw_shift(std::uint64_t seed, int epoch, int example, int max_shift, bool flip = false);

// out = the image `in` (channels x height x width, channel-major) mirrored if s.flip, then
// moved by (dx, dy); pixels moved in from outside the frame are 0 (the background) and pixels
// moved out are lost. in and out must not overlap.
void shift_image(const std::uint8_t* in, int channels, int height, int width, Shift s, std::uint8_t* out);
void shift_image(const float* in, int channels, int height, int width, Shift s, float* out);

}  // namespace eqprop
