#include "eqprop/io/npy.hpp"

#include <zlib.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "eqprop/error.hpp"

namespace eqprop {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& why) { throw DataError(what + ": " + why); }

std::uint64_t get_le(const std::string& s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

// ---- The header: a Python dict literal with exactly 'descr', 'fortran_order' and 'shape' ----
struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<std::size_t> shape;
};

class DictReader {
 public:
  DictReader(const std::string& text, const std::string& what) : s_(text), what_(what) {}
  Header read() {
    Header h;
    int seen = 0;
    expect('{');
    while (skip(), peek() != '}') {
      const std::string key = quoted();
      expect(':');
      if (key == "descr") h.descr = quoted(), seen |= 1;
      else if (key == "fortran_order") h.fortran = boolean(), seen |= 2;
      else if (key == "shape") h.shape = tuple(), seen |= 4;
      else bad("unexpected key '" + key + "' in the header");
      skip();
      if (peek() == ',') ++i_;
      else if (peek() != '}') bad("expected ',' or '}' in the header");
    }
    ++i_;
    skip();
    if (i_ != s_.size()) bad("text after the header's dict");
    if (seen != 7) bad("the header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& why) const { fail(what_, why); }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    skip();
    if (peek() != c) bad(std::string("expected '") + c + "' in the header");
    ++i_;
  }
  std::string quoted() {
    skip();
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted name in the header");
    const std::size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) bad("unterminated string in the header");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip();
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    bad("'fortran_order' is neither True nor False");
  }
  std::vector<std::size_t> tuple() {
    expect('(');
    std::vector<std::size_t> dims;
    while (skip(), peek() != ')') {
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("the shape holds something other than whole numbers");
      std::size_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const std::size_t d = static_cast<std::size_t>(s_[i_++] - '0');
        if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) bad("a dimension of the shape is too large");
        v = v * 10 + d;
      }
      dims.push_back(v);
      if (dims.size() > 32) bad("the shape has more than 32 dimensions");
      skip();
      if (peek() == ',') ++i_;
      else if (peek() != ')') bad("expected ',' or ')' in the shape");
    }
    ++i_;
    return dims;
  }

  const std::string& s_;
  const std::string& what_;
  std::size_t i_ = 0;
};

struct TypeName {
  const char* descr;  // little-endian or byte-sized descriptors only
  NpyType type;
};
constexpr TypeName kTypes[] = {
    {"|u1", NpyType::UInt8},   {"|i1", NpyType::Int8},    {"<u2", NpyType::UInt16},  {"<i2", NpyType::Int16},
    {"<u4", NpyType::UInt32},  {"<i4", NpyType::Int32},   {"<i8", NpyType::Int64},
    {"<f4", NpyType::Float32}, {"<f8", NpyType::Float64},
};

NpyType type_of(const std::string& descr, const std::string& what) {
  for (const auto& t : kTypes)
    if (descr == t.descr) return t.type;
  if (!descr.empty() && descr[0] == '>') fail(what, "big-endian data ('" + descr + "') is not supported");
  fail(what, "element type '" + descr + "' is not supported (integers up to int64, or float32/float64)");
}

// ---- zip: local file headers in order; stored (0) or deflated (8) entries ----
std::string inflate_entry(const std::string& z, std::size_t at, std::size_t packed, std::size_t size,
                          const std::string& what) {
  // Deflate cannot expand more than 1032:1, so a larger claim is a lie, refused before allocating.
  if (size / 1032 > packed + 1) fail(what, "its declared size is impossible for its compressed size");
  if (size > std::numeric_limits<uInt>::max() || packed > std::numeric_limits<uInt>::max())
    fail(what, "an entry over 4 GiB is not supported");
  std::string out(size, '\0');
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK) fail(what, "cannot start zlib");
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data() + at));
  s.avail_in = static_cast<uInt>(packed);
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(size);
  const int rc = inflate(&s, Z_FINISH);
  const std::size_t produced = size - s.avail_out;
  inflateEnd(&s);
  if (rc != Z_STREAM_END || produced != size) fail(what, "its compressed data is corrupt or not of its declared size");
  return out;
}

}  // namespace

std::size_t item_bytes(NpyType t) {
  switch (t) {
    case NpyType::UInt8: case NpyType::Int8: return 1;
    case NpyType::UInt16: case NpyType::Int16: return 2;
    case NpyType::UInt32: case NpyType::Int32: case NpyType::Float32: return 4;
    default: return 8;
  }
}
std::string npy_descr(NpyType t) {
  for (const auto& k : kTypes)
    if (k.type == t) return k.descr;
  return "?";
}
bool is_integer(NpyType t) { return t != NpyType::Float32 && t != NpyType::Float64; }
std::string type_name(NpyType t) {
  static const char* names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "float32", "float64"};
  return names[static_cast<int>(t)];
}

std::size_t NpyTensor::count() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

double NpyTensor::real(std::size_t i) const {
  const unsigned char* p = bytes.data() + i * item_bytes(type);
  if (type == NpyType::Float32) { float v; std::memcpy(&v, p, 4); return v; }
  if (type == NpyType::Float64) { double v; std::memcpy(&v, p, 8); return v; }
  return static_cast<double>(integer(i));
}

std::int64_t NpyTensor::integer(std::size_t i) const {
  const unsigned char* p = bytes.data() + i * item_bytes(type);
  auto raw = [&](int n) { std::uint64_t v = 0; for (int b = 0; b < n; ++b) v |= std::uint64_t(p[b]) << (8 * b); return v; };
  switch (type) {
    case NpyType::UInt8: return p[0];
    case NpyType::Int8: return static_cast<std::int8_t>(p[0]);
    case NpyType::UInt16: return static_cast<std::int64_t>(raw(2));
    case NpyType::Int16: return static_cast<std::int16_t>(raw(2));
    case NpyType::UInt32: return static_cast<std::int64_t>(raw(4));
    case NpyType::Int32: return static_cast<std::int32_t>(raw(4));
    case NpyType::Int64: return static_cast<std::int64_t>(raw(8));
    default: throw std::logic_error("NpyTensor::integer on a float array");
  }
}

NpyTensor parse_npy(const std::string& b, const std::string& what) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) fail(what, "not a .npy array (bad magic)");
  const int major = static_cast<unsigned char>(b[6]);
  if (major < 1 || major > 3) fail(what, ".npy format version " + std::to_string(major) + " is not supported");
  const int len_bytes = major == 1 ? 2 : 4;
  if (b.size() < std::size_t(8 + len_bytes)) fail(what, "truncated header");
  const std::size_t hlen = get_le(b, 8, len_bytes), data_at = 8 + len_bytes + hlen;
  if (data_at > b.size()) fail(what, "truncated header");
  const Header h = DictReader(b.substr(8 + len_bytes, hlen), what).read();
  if (h.fortran) fail(what, "Fortran-order arrays are not supported (save with numpy.ascontiguousarray)");
  NpyTensor t;
  t.type = type_of(h.descr, what);
  t.shape = h.shape;
  std::size_t n = item_bytes(t.type);
  for (std::size_t d : t.shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) fail(what, "the shape's size overflows");
    n *= d;
  }
  if (n != b.size() - data_at) {
    fail(what, "the header's shape needs " + std::to_string(n) + " data bytes, the array holds " +
                   std::to_string(b.size() - data_at));
  }
  t.bytes.assign(b.begin() + static_cast<std::ptrdiff_t>(data_at), b.end());
  return t;
}

std::vector<NpyTensor> parse_npz(const std::string& z, const std::string& path) {
  const std::string file = "npz file '" + path + "'";
  std::vector<NpyTensor> out;
  std::size_t at = 0;
  while (at + 4 <= z.size() && get_le(z, at, 4) == 0x04034b50) {
    if (at + 30 > z.size()) fail(file, "truncated zip entry header");
    const std::uint64_t flags = get_le(z, at + 6, 2), method = get_le(z, at + 8, 2);
    std::uint64_t packed = get_le(z, at + 18, 4), size = get_le(z, at + 22, 4);
    const std::size_t name_len = get_le(z, at + 26, 2), extra_len = get_le(z, at + 28, 2);
    const std::size_t body_at = at + 30 + name_len + extra_len;
    if (body_at > z.size()) fail(file, "truncated zip entry header");
    const std::string name = z.substr(at + 30, name_len);
    const std::string what = file + ", entry '" + name + "'";
    if (flags & 0x9) fail(what, "encrypted entries and entries with a trailing data descriptor are not supported");
    if (packed == 0xffffffffu || size == 0xffffffffu) {
      // zip64: the real sizes are in the extra field 0x0001 (uncompressed, then compressed).
      bool found = false;
      for (std::size_t e = at + 30 + name_len; e + 4 <= body_at;) {
        const std::size_t id = get_le(z, e, 2), len = get_le(z, e + 2, 2);
        if (e + 4 + len > body_at) break;
        if (id == 1 && len >= 16) size = get_le(z, e + 4, 8), packed = get_le(z, e + 12, 8), found = true;
        e += 4 + len;
      }
      if (!found) fail(what, "zip64 sizes missing");
    }
    if (packed > z.size() - body_at) fail(what, "truncated: the entry claims more bytes than the file holds");
    if (method != 0 && method != 8) fail(what, "compression method " + std::to_string(method) + " is not supported");
    if (method == 0 && packed != size) fail(what, "a stored entry whose sizes disagree");
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".npy") != 0) fail(what, "not a .npy entry");
    const std::string body = method == 0 ? z.substr(body_at, packed) : inflate_entry(z, body_at, packed, size, what);
    NpyTensor t = parse_npy(body, what);
    t.name = name.substr(0, name.size() - 4);
    for (const auto& other : out)
      if (other.name == t.name) fail(what, "a second array named '" + t.name + "'");
    out.push_back(std::move(t));
    at = body_at + packed;
  }
  if (out.empty()) fail(file, "no arrays found (not an .npz file?)");
  if (at + 4 > z.size() || (get_le(z, at, 4) != 0x02014b50 && get_le(z, at, 4) != 0x06054b50))
    fail(file, "bytes after the last entry are not a zip central directory");
  // The archive must end where its end-of-central-directory record (and its comment) ends:
  // anything else is a cut or an appended file.
  bool ends = false;
  for (std::size_t p = z.size() >= 22 ? z.size() - 22 : 0; p >= at && p + 22 <= z.size() && !ends; --p) {
    ends = get_le(z, p, 4) == 0x06054b50 && p + 22 + get_le(z, p + 20, 2) == z.size();
    if (p == 0 || z.size() - p > 22 + 65535) break;
  }
  if (!ends) fail(file, "does not end with the zip archive's end record (truncated, or bytes after the archive)");
  return out;
}

namespace {

// A whole file's bytes, for the parsers above; kind ("npz file", "npy file") names it in errors.
std::string read_whole(const std::string& path, const std::string& kind) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(kind + " '" + path + "'", "no such file");
  if (std::filesystem::file_size(path, ec) > (std::uint64_t(16) << 30)) fail(kind + " '" + path + "'", "larger than 16 GiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(kind + " '" + path + "'", "cannot open");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::vector<NpyTensor> read_npz_file(const std::string& path) { return parse_npz(read_whole(path, "npz file"), path); }

NpyTensor read_npy_file(const std::string& path) {
  return parse_npy(read_whole(path, "npy file"), "npy file '" + path + "'");
}

}  // namespace eqprop
