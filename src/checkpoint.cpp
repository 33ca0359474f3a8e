#include "eqprop/checkpoint.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/array.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace eqprop {
namespace {

constexpr char kMagic[8] = {'E', 'Q', 'P', 'R', 'O', 'P', 'C', 'K'};
constexpr std::size_t kHeaderBytes = 32;
constexpr std::uint32_t kFlagParticles = 1;

// ---- Boost.Serialization of the state's parts (binary archives: same machine kind) ----
// Every length in the payload is checked against the bytes left in it before anything is
// allocated: even a file with a correct checksum (a buggy writer, a crafted file) cannot
// make the decoder allocate more than the file holds.
struct Budget {
  std::uint64_t left;
  void take(std::uint64_t count, std::uint64_t item_bytes) {
    if (item_bytes != 0 && count > left / item_bytes)
      throw std::length_error("a stored length exceeds the payload");
    left -= count * item_bytes;
  }
};

template <class A, class T>
void vec(A& ar, std::vector<T>& v, Budget& b) {
  static_assert(std::is_arithmetic_v<T>);
  std::uint64_t n = v.size();
  ar & n;
  if constexpr (A::is_loading::value) {
    b.take(n, sizeof(T));
    v.resize(n);
  }
  if (n) ar & boost::serialization::make_array(v.data(), n);
}
template <class A, class T>
void vecs(A& ar, std::vector<std::vector<T>>& v, Budget& b) {
  std::uint64_t n = v.size();
  ar & n;
  if constexpr (A::is_loading::value) {
    b.take(n, sizeof(std::uint64_t));  // each inner vector stores at least its length
    v.resize(n);
  }
  for (auto& inner : v) vec(ar, inner, b);
}
template <class A>
void str(A& ar, std::string& s, Budget& b) {
  std::vector<char> chars(s.begin(), s.end());
  vec(ar, chars, b);
  s.assign(chars.begin(), chars.end());
}

// A bool goes through a byte checked on loading: reading any other byte value into a bool
// is undefined behaviour (found by fuzz_checkpoint).
template <class A>
void flag(A& ar, bool& v) {
  std::uint8_t byte = v ? 1 : 0;
  ar & byte;
  if (byte > 1) throw std::range_error("a stored flag is neither 0 nor 1");
  v = byte == 1;
}

// format: the file's format version. Older files load the keys they predate with their
// defaults (version 1: dataset, train-on-all, lr-decay; version 2: weight-decay, persistent-particles;
// version 3: max-shift).
template <class A>
void serialize_config(A& ar, Config& c, Budget& b, std::uint32_t format) {
  int nudging = static_cast<int>(c.nudging), sign = static_cast<int>(c.beta_sign);
  int dataset = static_cast<int>(c.dataset);
  vec(ar, c.hidden, b);
  ar & c.epochs & c.batch & c.n_free & c.n_nudged & c.test_steps & c.eps & c.beta;
  vec(ar, c.alphas, b);
  ar & nudging & sign;
  flag(ar, c.shuffle);
  ar & c.seed;
  str(ar, c.data, b);
  ar & c.train_samples & c.valid_samples & c.threads & c.chunk & c.eval_chunk;
  str(ar, c.metrics, b);
  str(ar, c.checkpoint, b);
  ar & c.checkpoint_every;
  flag(ar, c.checkpoint_particles);
  str(ar, c.resume, b);
  ar & c.max_minibatches;
  flag(ar, c.progress);
  if (format >= 2) {
    ar & dataset;
    flag(ar, c.train_on_all);
    ar & c.lr_decay;
  }
  if (format >= 3) {
    ar & c.weight_decay;
    flag(ar, c.persistent_particles);
  }
  if (format >= 4) ar & c.max_shift;
  if (nudging < 0 || nudging > 1 || sign < 0 || sign > 1 || dataset < 0 || dataset > 1)
    throw std::range_error("bad enumeration value");
  c.dataset = static_cast<DatasetName>(dataset);
  c.nudging = static_cast<Nudging>(nudging);
  c.beta_sign = static_cast<BetaSign>(sign);
}
template <class A>
void serialize_net(A& ar, Network& n, Budget& b) {
  vec(ar, n.sizes, b);
  vecs(ar, n.W, b);
  vecs(ar, n.b, b);
}
template <class A>
void serialize_states(A& ar, LayerStates<float>& s, Budget& b) {
  ar & s.capacity;
  vecs(ar, s.h, b);
}
template <class A>
void serialize_stats(A& ar, StateStats& s) {
  ar & s.energy & s.cost & s.errors & s.count;
}
template <class A>
void serialize_epoch(A& ar, EpochStats& e, Budget& b) {
  ar & e.epoch;
  serialize_stats(ar, e.train);
  serialize_stats(ar, e.valid);
  vec(ar, e.rel_change, b);
  ar & e.seconds & e.train_seconds & e.relax_seconds & e.update_seconds & e.valid_seconds & e.threads;
}
template <class A>
void serialize_state(A& ar, TrainState& s, bool particles, Budget& b, std::uint32_t format) {
  serialize_config(ar, s.cfg, b, format);
  serialize_net(ar, s.net, b);
  std::array<std::uint64_t, 4> rng = s.rng.state();
  ar & rng;
  s.rng.set_state(rng);
  ar & s.epochs_done;
  flag(ar, s.in_epoch);
  ar & s.cursor;
  vec(ar, s.order, b);
  serialize_epoch(ar, s.current, b);
  serialize_net(ar, s.epoch_start, b);
  std::uint64_t n = s.curves.size();
  ar & n;
  if constexpr (A::is_loading::value) {
    b.take(n, 64);  // an epoch row stores more than 64 bytes
    s.curves.resize(n);
  }
  for (auto& e : s.curves) serialize_epoch(ar, e, b);
  if (particles) {
    serialize_states(ar, s.train_particles, b);
    serialize_states(ar, s.valid_particles, b);
  }
}

void put_le(unsigned char* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint64_t get_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}
std::uint32_t crc32_of(const std::string& bytes) {
  // zlib's crc32 (the CRC-32 of zip and gzip) runs at memory speed on the ~120 MB of a net1
  // checkpoint with particles; boost::crc_32_type computes the same value, several times slower.
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  std::size_t left = bytes.size();
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
  if (n != s.cfg.layer_sizes()) bad("network sizes differ from the stored configuration");
  if (s.net.W.size() != n.size() || s.net.b.size() != n.size()) bad("wrong number of layers");
  for (std::size_t k = 0; k < n.size(); ++k) {
    if (s.net.b[k].size() != std::size_t(n[k])) bad("bias " + std::to_string(k) + " has the wrong size");
    if (k > 0 && s.net.W[k].size() != std::size_t(n[k - 1]) * n[k]) bad("W" + std::to_string(k) + " has the wrong size");
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
[[noreturn]] void fail_write(const std::string& path, const std::string& what) {
  throw CheckpointWriteError("checkpoint '" + path + "': " + what);
}
std::string sys_error() { return std::strerror(errno); }

// Writes all of buf to fd, or returns false with errno set.
bool write_all(int fd, const char* buf, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    buf += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

std::string parent_dir(const std::string& path) {
  const std::filesystem::path p = std::filesystem::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

}  // namespace

void check_checkpoint_writable(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string dir = parent_dir(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(path, "folder '" + dir + "' does not exist");
  if (fs::is_directory(path, ec)) fail(path, "is a folder, expected a file path");
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(path, "cannot create '" + tmp + "': " + sys_error());
  ::close(fd);
  ::unlink(tmp.c_str());
}

std::string encode_checkpoint(const TrainState& state, bool with_particles) {
  std::ostringstream payload_stream(std::ios::binary);
  {
    // no_header: our own header says what the file is; Boost's would only add its version string.
    boost::archive::binary_oarchive ar(payload_stream, boost::archive::no_header);
    Budget unused{0};
    // Saving only reads the state: the shared save/load code takes a mutable reference.
    serialize_state(ar, const_cast<TrainState&>(state), with_particles, unused, kCheckpointFormat);
  }
  const std::string payload = payload_stream.str();
  unsigned char header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  put_le(header + 8, kCheckpointFormat, 4);
  put_le(header + 12, with_particles ? kFlagParticles : 0, 4);
  put_le(header + 16, payload.size(), 8);
  put_le(header + 24, crc32_of(payload), 4);
  return std::string(reinterpret_cast<const char*>(header), kHeaderBytes) + payload;
}

void save_checkpoint(const std::string& path, const TrainState& state, bool with_particles) {
  const std::string bytes = encode_checkpoint(state, with_particles);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail_write(path, "cannot create '" + tmp + "': " + sys_error() + "; the previous checkpoint is kept");
  const bool ok = write_all(fd, bytes.data(), bytes.size()) && ::fsync(fd) == 0;
  const std::string err = ok ? "" : sys_error();
  if (::close(fd) != 0 && ok) {
    const std::string close_err = sys_error();
    ::unlink(tmp.c_str());
    fail_write(path, "writing '" + tmp + "' failed: " + close_err + "; the previous checkpoint is kept");
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    fail_write(path, "writing '" + tmp + "' failed: " + err + "; the previous checkpoint is kept");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = sys_error();
    ::unlink(tmp.c_str());
    fail_write(path, "renaming '" + tmp + "' failed: " + e + "; the previous checkpoint is kept");
  }
  // The rename is durable only once the folder's entry is on disk.
  const int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

TrainState decode_checkpoint(const std::string& bytes, const std::string& name, CheckpointInfo* info) {
  const std::string& path = name;
  const auto* header = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kHeaderBytes || std::memcmp(header, kMagic, sizeof kMagic) != 0)
    fail(path, "not an eqprop checkpoint (bad magic or shorter than the 32-byte header)");
  const auto format = static_cast<std::uint32_t>(get_le(header + 8, 4));
  const auto flags = static_cast<std::uint32_t>(get_le(header + 12, 4));
  const std::uint64_t length = get_le(header + 16, 8);
  const auto crc = static_cast<std::uint32_t>(get_le(header + 24, 4));
  if (format > kCheckpointFormat || format == 0) {
    fail(path, "format version " + std::to_string(format) + " is not supported (this eqprop reads version " +
                   std::to_string(kCheckpointFormat) + "; a newer eqprop wrote it?)");
  }
  if (length != bytes.size() - kHeaderBytes) {
    fail(path, "truncated or padded: the header promises " + std::to_string(length) + " payload bytes, the file has " +
                   std::to_string(bytes.size() - kHeaderBytes));
  }
  const std::string payload = bytes.substr(kHeaderBytes);
  if (crc32_of(payload) != crc) fail(path, "checksum mismatch: the file is corrupted");
  TrainState state;
  const bool particles = (flags & kFlagParticles) != 0;
  try {
    std::istringstream in(payload, std::ios::binary);
    boost::archive::binary_iarchive ar(in, boost::archive::no_header);
    Budget budget{length};
    serialize_state(ar, state, particles, budget, format);
    if (in.peek() != std::char_traits<char>::eof()) throw std::runtime_error("bytes left over after the state");
  } catch (const std::exception& e) {
    fail(path, std::string("cannot decode the payload (") + e.what() + ")");
  }
  check_consistent(path, state, particles);
  state.has_particles = particles;
  if (info) *info = CheckpointInfo{format, length, particles};
  return state;
}

TrainState load_checkpoint(const std::string& path, CheckpointInfo* info) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file");
  if (!fs::is_regular_file(path, ec)) fail(path, "not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(path, "cannot open: " + sys_error());
  struct stat st {};
  ::fstat(fd, &st);
  const std::uint64_t file_size = static_cast<std::uint64_t>(st.st_size);
  // The header first: a foreign or truncated file is refused before its promised length
  // is trusted for an allocation.
  unsigned char header[kHeaderBytes];
  const ssize_t got = ::read(fd, header, kHeaderBytes);
  if (got != static_cast<ssize_t>(kHeaderBytes) || std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    ::close(fd);
    fail(path, "not an eqprop checkpoint (bad magic or shorter than the 32-byte header)");
  }
  const std::uint64_t length = get_le(header + 16, 8);
  if (length != file_size - kHeaderBytes) {
    ::close(fd);
    const auto format = static_cast<std::uint32_t>(get_le(header + 8, 4));
    if (format > kCheckpointFormat || format == 0)
      fail(path, "format version " + std::to_string(format) + " is not supported (this eqprop reads version " +
                     std::to_string(kCheckpointFormat) + "; a newer eqprop wrote it?)");
    fail(path, "truncated or padded: the header promises " + std::to_string(length) + " payload bytes, the file has " +
                   std::to_string(file_size - kHeaderBytes));
  }
  std::string bytes(kHeaderBytes + length, '\0');
  std::memcpy(bytes.data(), header, kHeaderBytes);
  std::size_t done = 0;
  while (done < length) {
    const ssize_t r = ::read(fd, bytes.data() + kHeaderBytes + done, length - done);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      ::close(fd);
      fail(path, "read error: " + (r < 0 ? sys_error() : std::string("unexpected end of file")));
    }
    done += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return decode_checkpoint(bytes, path, info);
}

}  // namespace eqprop
