#include "eqprop/io/idx.hpp"

#include <zlib.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "eqprop/error.hpp"

namespace eqprop {
namespace {

constexpr std::uint32_t kImageMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t kLabelMagic = 0x00000801;  // unsigned byte, 1 dimension
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
    if (!fs::exists(st)) fail(path, "no such file (hint: run tools/fetch_mnist.sh, or set --data)");
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

void check_magic(const std::string& path, std::uint32_t found, std::uint32_t expected) {
  if (found == expected) return;
  std::ostringstream os;
  os << std::hex << "wrong magic number 0x" << found << ", expected 0x" << expected
     << (expected == kImageMagic ? " (IDX images)" : " (IDX labels)");
  fail(path, os.str());
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  ByteReader in(path);
  check_magic(path, in.read_be32("magic"), kImageMagic);
  const std::uint32_t count = in.read_be32("count");
  const std::uint32_t rows = in.read_be32("rows");
  const std::uint32_t cols = in.read_be32("cols");
  if (count == 0 || count > kMaxCount || rows == 0 || rows > kMaxSide || cols == 0 || cols > kMaxSide ||
      std::uint64_t(count) * rows * cols > kMaxPixels) {
    std::ostringstream os;
    os << "implausible image dimensions " << count << " x " << rows << " x " << cols;
    fail(path, os.str());
  }
  const std::size_t n = std::size_t(count) * rows * cols;
  auto bytes = in.read_payload(n);
  IdxImages img;
  img.count = static_cast<int>(count);
  img.rows = static_cast<int>(rows);
  img.cols = static_cast<int>(cols);
  img.pixels = std::move(bytes);
  return img;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path) {
  ByteReader in(path);
  check_magic(path, in.read_be32("magic"), kLabelMagic);
  const std::uint32_t count = in.read_be32("count");
  if (count == 0 || count > kMaxCount) {
    std::ostringstream os;
    os << "implausible label count " << count;
    fail(path, os.str());
  }
  auto bytes = in.read_payload(count);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] > 9) {
      std::ostringstream os;
      os << "label " << int(bytes[i]) << " at index " << i << " is outside 0-9";
      fail(path, os.str());
    }
  }
  return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
}

}  // namespace eqprop
