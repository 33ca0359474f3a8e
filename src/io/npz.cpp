#include "eqprop/io/npz.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstring>

#include "eqprop/error.hpp"
#include "eqprop/io/atomic_file.hpp"
#include "eqprop/io/npy.hpp"

namespace eqprop {
namespace {

void put(std::string& s, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// .npy format 1.0: magic, version, header length, a Python dict literal padded with spaces
// so that the data starts on a 64-byte boundary, then the raw little-endian floats.
std::string npy_bytes(const std::vector<std::size_t>& dims, const std::string& descr, const void* data, std::size_t bytes) {
  std::string shape = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) shape += std::to_string(dims[i]) + (dims.size() == 1 ? "," : i + 1 < dims.size() ? ", " : "");
  shape += ")";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(1);
  out.push_back(0);
  put(out, dict.size(), 2);
  out += dict;
  out.append(static_cast<const char*>(data), bytes);
  return out;
}

struct Entry {
  std::string name, body;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError("npz file '" + path + "': " + what);
}

void write_entries(const std::string& path, const std::vector<Entry>& arrays) {
  std::string zip, central;
  for (const auto& a : arrays) {
    const std::string name = a.name + ".npy";
    const std::string& body = a.body;
    const auto crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    const std::size_t offset = zip.size();
    // Local file header: stored (method 0), DOS date 1980-01-01.
    put(zip, 0x04034b50, 4); put(zip, 20, 2); put(zip, 0, 2); put(zip, 0, 2); put(zip, 0, 2); put(zip, 0x21, 2);
    put(zip, crc, 4); put(zip, body.size(), 4); put(zip, body.size(), 4); put(zip, name.size(), 2); put(zip, 0, 2);
    zip += name;
    zip += body;
    // Its central directory entry.
    put(central, 0x02014b50, 4); put(central, 20, 2); put(central, 20, 2); put(central, 0, 2); put(central, 0, 2);
    put(central, 0, 2); put(central, 0x21, 2); put(central, crc, 4); put(central, body.size(), 4);
    put(central, body.size(), 4); put(central, name.size(), 2); put(central, 0, 2); put(central, 0, 2);
    put(central, 0, 2); put(central, 0, 2); put(central, 0, 4); put(central, offset, 4);
    central += name;
  }
  const std::size_t cd_offset = zip.size();
  zip += central;
  put(zip, 0x06054b50, 4); put(zip, 0, 2); put(zip, 0, 2); put(zip, arrays.size(), 2); put(zip, arrays.size(), 2);
  put(zip, central.size(), 4); put(zip, cd_offset, 4); put(zip, 0, 2);
  if (zip.size() >= (std::uint64_t(1) << 32)) fail(path, "larger than 4 GiB (zip64 is not supported)");

  // Whole or not at all, and durable (fsynced before and after the rename): an export over an
  // earlier one never leaves a broken archive. A destination that cannot be written is the
  // user's input, so it stays an InputError (exit 2) as every other bad path.
  try {
    write_file_atomically(path, zip, "npz file '" + path + "'", "a previous file there is kept");
  } catch (const AtomicWriteError& e) {
    throw InputError(e.what());
  }
}

}  // namespace

void write_npz(const std::string& path, const std::vector<NpyArray>& arrays) {
  std::vector<Entry> entries;
  for (const auto& a : arrays) entries.push_back({a.name, npy_bytes(a.shape, "<f4", a.data.data(), a.data.size() * sizeof(float))});
  write_entries(path, entries);
}

void write_npz(const std::string& path, const std::vector<NpyTensor>& arrays) {
  std::vector<Entry> entries;
  for (const auto& a : arrays) {
    if (a.bytes.size() != a.count() * item_bytes(a.type)) fail(path, "array '" + a.name + "': bytes do not match its shape");
    entries.push_back({a.name, npy_bytes(a.shape, npy_descr(a.type), a.bytes.data(), a.bytes.size())});
  }
  write_entries(path, entries);
}

void write_npy(const std::string& path, const NpyTensor& a) {
  if (a.bytes.size() != a.count() * item_bytes(a.type)) throw InputError("npy file '" + path + "': bytes do not match the shape");
  write_file_atomically(path, npy_bytes(a.shape, npy_descr(a.type), a.bytes.data(), a.bytes.size()), "npy file '" + path + "'",
                        "a previous file there is kept");
}

std::vector<NpyArray> read_npz(const std::string& path) {
  std::vector<NpyArray> out;
  for (NpyTensor& t : read_npz_file(path)) {
    if (t.type != NpyType::Float32) fail(path, "entry '" + t.name + "' is " + type_name(t.type) + ", not float32");
    NpyArray a{t.name, t.shape, std::vector<float>(t.count())};
    if (!a.data.empty()) std::memcpy(a.data.data(), t.bytes.data(), t.bytes.size());
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace eqprop
