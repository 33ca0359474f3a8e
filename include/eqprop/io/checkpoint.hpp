// Checkpoints: a TrainState on disk. Layout: our own 32-byte header (magic, format version,
// flags, payload length, CRC-32 of the payload), then the payload (checkpoint_schema.hpp).
// The header and checksum are checked before anything is deserialized, so a truncated,
// corrupted, foreign or newer file is refused before any size in it reaches an allocator.
// Writes go to PATH.tmp, are fsynced and renamed over PATH: a crash at any moment leaves
// the old or the new complete checkpoint, never a broken one.
#pragma once
#include <cstdint>
#include <string>

#include "eqprop/error.hpp"
#include "eqprop/io/atomic_file.hpp"
#include "eqprop/ep/train_state.hpp"

namespace eqprop {

// A checkpoint that cannot be read, or a checkpoint path that cannot be used (bad input: exit 2).
struct CheckpointError : InputError {
  using InputError::InputError;
};
// Writing a checkpoint failed midway (a full disk, say): the previous file is kept (exit 1).
using CheckpointWriteError = AtomicWriteError;

constexpr std::uint32_t kCheckpointFormat = 9;  // 2: + dataset, train-on-all, lr-decay; 3: + weight-decay, persistent-particles; 4: + max-shift; 5: + classes, label, valid-count, normalize, relax, tol, flip, the data facts and steps per phase; 6: + relax-nudged; 7: + layers (conv nets); 8: + momentum, lr-schedule, readout, the velocity; 9: + keep-best, patience

struct CheckpointInfo {
  std::uint32_t format = 0;
  std::uint64_t payload_bytes = 0;
  bool has_particles = false;
};

// with_particles = false writes a model-only file (particles restart from zero on resume).
// Throws CheckpointWriteError naming the path and the system error; the previous file at
// path is then untouched and no PATH.tmp is left behind.
void save_checkpoint(const std::string& path, const TrainState& state, bool with_particles);
// Throws CheckpointError on a missing, truncated, corrupted, foreign or newer file.
TrainState load_checkpoint(const std::string& path, CheckpointInfo* info = nullptr);
// The same in memory: the file's bytes (header and payload), and back. decode_checkpoint
// names the bytes `name` in its errors. Used to send a resumed state to other ranks.
std::string encode_checkpoint(const TrainState& state, bool with_particles);
TrainState decode_checkpoint(const std::string& bytes, const std::string& name, CheckpointInfo* info = nullptr);
// Fails early (CheckpointError) if PATH.tmp cannot be created beside path: a missing or
// unwritable folder is found before any training, not after the first epoch.
void check_checkpoint_writable(const std::string& path);

}  // namespace eqprop
