#include "eqprop/io/idx.hpp"

#include <zlib.h>

#include <filesystem>
#include <cstring>
#include <memory>
#include <sstream>

#include "eqprop/error.hpp"

namespace eqprop {
namespace {

constexpr std::uint32_t kMaxCount = 100'000'000;
constexpr std::uint32_t kMaxSide = 10'000;
constexpr std::uint64_t kMaxPixels = std::uint64_t(1) << 34;  // 16 GiB of bytes

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError("data file '" + path + "': " + what);
}

// Reads a file through zlib, which also passes uncompressed files through unchanged,
// so raw and .gz IDX files take the same path.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (!fs::exists(st)) fail(path, "no such file");
    if (!fs::is_regular_file(st)) fail(path, "not a regular file");
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) fail(path, "cannot open for reading");
  }
  ~ByteReader() {
    if (file_) gzclose(file_);
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // Reads up to n bytes; returns how many were read.
  std::size_t read(unsigned char* dst, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const unsigned ask = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      const int got = gzread(file_, dst + done, ask);
      if (got < 0) {
        int err = 0;
        fail(path_, std::string("read error: ") + gzerror(file_, &err));
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  std::uint32_t read_be32(const char* what) {
    unsigned char b[4];
    if (read(b, 4) != 4) fail(path_, std::string("file ends inside the header (") + what + ")");
    return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) | b[3];
  }

  // Reads exactly n payload bytes and checks that nothing follows. Grows the buffer as
  // bytes arrive, so a header that lies about its size cannot force a huge allocation.
  std::vector<unsigned char> read_payload(std::size_t n) {
    std::vector<unsigned char> out;
    constexpr std::size_t kStep = 1 << 22;
    while (out.size() < n) {
      const std::size_t want = std::min(kStep, n - out.size());
      const std::size_t old = out.size();
      out.resize(old + want);
      const std::size_t got = read(out.data() + old, want);
      if (got < want) {
        std::ostringstream os;
        os << "truncated: the header promises " << n << " data bytes, the file holds "
           << old + got;
        fail(path_, os.str());
      }
    }
    unsigned char extra;
    if (read(&extra, 1) != 0) {
      std::ostringstream os;
      os << "trailing bytes after the " << n << " data bytes the header promises";
      fail(path_, os.str());
    }
    return out;
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

constexpr int kUByte = 0x08, kFloat32 = 0x0D;

}  // namespace

namespace {
IdxArray read_idx_checked(const std::string& path, std::uint32_t expected) {
  ByteReader in(path);
  const std::uint32_t magic = in.read_be32("magic");
  if (expected != 0 && magic != expected) {
    std::ostringstream os;
    os << std::hex << "wrong magic number 0x" << magic << ", expected 0x" << expected
       << (expected == 0x803 ? " (IDX images of unsigned bytes)" : " (IDX labels of unsigned bytes)");
    fail(path, os.str());
  }
  const int type = (magic >> 8) & 0xff, ndims = magic & 0xff;
  if ((magic >> 16) != 0 || (type != kUByte && type != kFloat32) || ndims < 1 || ndims > 4) {
    std::ostringstream os;
    os << std::hex << "wrong magic number 0x" << magic
       << ", expected an IDX array of unsigned bytes (0x8NN) or float32 (0xDNN) with 1 to 4 dimensions";
    fail(path, os.str());
  }
  IdxArray a;
  a.is_float = type == kFloat32;
  std::uint64_t n = 1;
  for (int d = 0; d < ndims; ++d) {
    const std::uint32_t v = in.read_be32(d == 0 ? "count" : "dimension");
    if (v == 0 || v > (d == 0 ? kMaxCount : kMaxSide)) {
      std::ostringstream os;
      os << "implausible " << (ndims == 1 ? "label count " : "image dimensions: ") << (d == 0 ? "count " : "dimension ")
         << v;
      fail(path, os.str());
    }
    a.dims.push_back(v);
    n *= v;
    if (n > kMaxPixels) fail(path, "implausible image dimensions: more than 2^34 elements");
  }
  const std::size_t item = a.is_float ? 4 : 1;
  auto raw = in.read_payload(std::size_t(n) * item);
  if (!a.is_float) {
    a.bytes = std::move(raw);
    return a;
  }
  a.floats.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* p = raw.data() + 4 * i;
    const std::uint32_t bits = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
    std::memcpy(&a.floats[i], &bits, 4);
  }
  return a;
}
}  // namespace

IdxArray read_idx(const std::string& path) { return read_idx_checked(path, 0); }

IdxImages read_idx_images(const std::string& path) {
  IdxArray a = read_idx_checked(path, 0x803);
  IdxImages img;
  img.count = static_cast<int>(a.dims[0]);
  img.rows = static_cast<int>(a.dims[1]);
  img.cols = static_cast<int>(a.dims[2]);
  img.pixels = std::move(a.bytes);
  return img;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path) { return std::move(read_idx_checked(path, 0x801).bytes); }

}  // namespace eqprop
