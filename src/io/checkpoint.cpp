// The checkpoint file: a 32-byte header (magic, format version, flags, payload length, CRC-32
// of the payload) in front of the payload (checkpoint_schema.hpp), checked before anything is
// decoded; the writes go through atomic_file.hpp.
#include "eqprop/io/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "eqprop/io/atomic_file.hpp"
#include "eqprop/io/checkpoint_schema.hpp"

namespace eqprop {
namespace {

constexpr char kMagic[8] = {'E', 'Q', 'P', 'R', 'O', 'P', 'C', 'K'};
constexpr std::size_t kHeaderBytes = 32;
constexpr std::uint32_t kFlagParticles = 1;

void put_le(unsigned char* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint64_t get_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}
std::uint32_t crc32_of(const char* data, std::size_t size) {
  // zlib's crc32 (the CRC-32 of zip and gzip) runs at memory speed on the ~120 MB of a net1
  // checkpoint with particles; boost::crc_32_type computes the same value, several times slower.
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(data);
  std::size_t left = size;
  while (left > 0) {
    const uInt n = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
    crc = crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<std::uint32_t>(crc);
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw CheckpointError("checkpoint '" + path + "': " + what);
}

struct Header {
  std::uint32_t format = 0, flags = 0, crc = 0;
  std::uint64_t length = 0;
};

// The header of a file of total_bytes (header included), checked: magic, version, and a length
// that matches the file. Throws CheckpointError naming path.
Header parse_header(const unsigned char* h, std::size_t have, std::uint64_t total_bytes, const std::string& path) {
  if (have < kHeaderBytes || std::memcmp(h, kMagic, sizeof kMagic) != 0)
    fail(path, "not an eqprop checkpoint (bad magic or shorter than the 32-byte header)");
  Header out{static_cast<std::uint32_t>(get_le(h + 8, 4)), static_cast<std::uint32_t>(get_le(h + 12, 4)),
             static_cast<std::uint32_t>(get_le(h + 24, 4)), get_le(h + 16, 8)};
  if (out.format > kCheckpointFormat || out.format == 0) {
    fail(path, "format version " + std::to_string(out.format) + " is not supported (this eqprop reads version " +
                   std::to_string(kCheckpointFormat) + "; a newer eqprop wrote it?)");
  }
  if (out.length != total_bytes - kHeaderBytes) {
    fail(path, "truncated or padded: the header promises " + std::to_string(out.length) +
                   " payload bytes, the file has " + std::to_string(total_bytes - kHeaderBytes));
  }
  return out;
}

// A file with a good checksum can still come from a buggy writer: every size the Trainer
// will trust is checked against the others before the state is handed out.
void check_consistent(const std::string& path, const TrainState& s, bool particles) {
  auto bad = [&](const std::string& what) { fail(path, "inconsistent contents: " + what); };
  try {
    s.cfg.validate();
  } catch (const ConfigError& e) {
    bad(std::string("stored configuration: ") + e.what());
  }
  const auto& n = s.net.sizes;
  try {
    if (n != s.cfg.layer_sizes()) bad("network sizes differ from the stored configuration");
  } catch (const ConfigError& e) {
    bad(std::string("stored layers: ") + e.what());
  }
  if (s.net.W.size() != n.size() || s.net.b.size() != n.size()) bad("wrong number of layers");
  // A conv W_k is C_k x C_{k-1} x K x K with a bias per channel (architecture.hpp).
  const auto entries = s.cfg.weight_entries();
  const auto shapes = layer_shapes(s.cfg.entries(), s.cfg.facts);
  if (s.net.b[0].size() != std::size_t(n[0])) bad("bias 0 has the wrong size");
  for (std::size_t k = 1; k < n.size(); ++k) {
    if (s.net.b[k].size() != std::size_t(entries[k - 1].size)) bad("bias " + std::to_string(k) + " has the wrong size");
    if (s.net.W[k].size() != std::size_t(weight_count(entries[k - 1], shapes[k - 1])))
      bad("W" + std::to_string(k) + " has the wrong size");
  }
  // The velocity: none, or one value per parameter (momentum may be switched on or off at a resume).
  if (!s.velocity.sizes.empty()) {
    if (s.velocity.sizes != n || s.velocity.W.size() != n.size() || s.velocity.b.size() != n.size())
      bad("the velocity has the wrong number of layers");
    for (std::size_t k = 0; k < n.size(); ++k)
      if (s.velocity.W[k].size() != s.net.W[k].size() || s.velocity.b[k].size() != s.net.b[k].size())
        bad("the velocity of layer " + std::to_string(k) + " has the wrong size");
  }
  std::vector<char> seen(s.order.size(), 0);
  for (std::int32_t i : s.order) {
    if (i < 0 || std::size_t(i) >= s.order.size() || seen[i]) bad("the example order is not a permutation");
    seen[i] = 1;
  }
  if (s.cursor < 0 || std::size_t(s.cursor) > s.order.size()) bad("the epoch cursor is out of range");
  if (s.in_epoch && s.epoch_start.sizes != n) bad("the epoch's starting parameters are missing");
  if (particles) {
    for (const Particles* p : {&s.train_particles, &s.valid_particles}) {
      if (p->h.size() != n.size() || p->capacity < 0) bad("particles have the wrong number of layers");
      for (std::size_t k = 1; k < n.size(); ++k)
        if (p->h[k].size() != std::size_t(p->capacity) * n[k]) bad("particles of layer " + std::to_string(k) + " have the wrong size");
    }
    if (std::size_t(s.train_particles.capacity) != s.order.size()) bad("training particles and example order disagree");
  }
}
std::string sys_error() { return std::strerror(errno); }

// The whole file, its header checked before its promised length is trusted for an allocation.
std::string read_checkpoint_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file");
  if (!fs::is_regular_file(path, ec)) fail(path, "not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(path, "cannot open: " + sys_error());
  struct stat st {};
  ::fstat(fd, &st);
  unsigned char header[kHeaderBytes];
  const ssize_t got = ::read(fd, header, kHeaderBytes);
  Header h;
  try {
    h = parse_header(header, got < 0 ? 0 : std::size_t(got), static_cast<std::uint64_t>(st.st_size), path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  std::string bytes(kHeaderBytes + h.length, '\0');
  std::memcpy(bytes.data(), header, kHeaderBytes);
  std::size_t done = 0;
  while (done < h.length) {
    const ssize_t r = ::read(fd, bytes.data() + kHeaderBytes + done, h.length - done);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      ::close(fd);
      fail(path, "read error: " + (r < 0 ? sys_error() : std::string("unexpected end of file")));
    }
    done += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return bytes;
}

}  // namespace

void check_checkpoint_writable(const std::string& path) {
  const std::string problem = atomic_write_problem(path);
  if (!problem.empty()) fail(path, problem);
}

std::string encode_checkpoint(const TrainState& state, bool with_particles) {
  const std::string payload = encode_payload(state, with_particles, kCheckpointFormat);
  unsigned char header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  put_le(header + 8, kCheckpointFormat, 4);
  put_le(header + 12, with_particles ? kFlagParticles : 0, 4);
  put_le(header + 16, payload.size(), 8);
  put_le(header + 24, crc32_of(payload.data(), payload.size()), 4);
  return std::string(reinterpret_cast<const char*>(header), kHeaderBytes) + payload;
}

void save_checkpoint(const std::string& path, const TrainState& state, bool with_particles) {
  write_file_atomically(path, encode_checkpoint(state, with_particles), "checkpoint '" + path + "'");
}

TrainState decode_checkpoint(const std::string& bytes, const std::string& name, CheckpointInfo* info) {
  const Header h = parse_header(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), bytes.size(), name);
  if (crc32_of(bytes.data() + kHeaderBytes, h.length) != h.crc) fail(name, "checksum mismatch: the file is corrupted");
  const bool particles = (h.flags & kFlagParticles) != 0;
  TrainState state;
  try {
    state = decode_payload(bytes.substr(kHeaderBytes), particles, h.format);
  } catch (const std::exception& e) {
    fail(name, std::string("cannot decode the payload (") + e.what() + ")");
  }
  check_consistent(name, state, particles);
  set_architecture(state.net, state.cfg.entries(), state.cfg.facts);
  set_architecture(state.epoch_start, state.cfg.entries(), state.cfg.facts);
  if (!state.velocity.sizes.empty()) set_architecture(state.velocity, state.cfg.entries(), state.cfg.facts);
  state.has_particles = particles;
  if (info) *info = CheckpointInfo{h.format, h.length, particles};
  return state;
}

TrainState load_checkpoint(const std::string& path, CheckpointInfo* info) {
  return decode_checkpoint(read_checkpoint_file(path), path, info);
}

}  // namespace eqprop
