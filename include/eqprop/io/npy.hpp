// NumPy arrays as numpy.save and numpy.savez / savez_compressed write them: .npy (format 1.0,
// 2.0 and 3.0) and .npz (a zip of .npy entries, stored or deflated, with or without zip64
// extra fields). Little-endian (or byte-sized) integer and float element types, C order only.
//
// Every claim of a header is checked before it is trusted: the shape's element count times the
// item size must equal the bytes that follow exactly, a zip entry's sizes must fit the file, and
// an entry is inflated into at most its declared size (itself bounded by the deflate ratio
// limit), so no allocation follows a header's claim beyond what the file can hold.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace eqprop {

// (No uint64: every value of an element type must fit the int64 that integer() returns.)
enum class NpyType { UInt8, Int8, UInt16, Int16, UInt32, Int32, Int64, Float32, Float64 };

struct NpyTensor {
  std::string name;                  // the key in numpy.load(...)[name] ("" for a lone .npy)
  std::vector<std::size_t> shape;    // C order
  NpyType type = NpyType::Float32;
  std::vector<unsigned char> bytes;  // the elements, little-endian, C order

  std::size_t count() const;         // elements: the product of the shape (1 for a scalar)
  // Element i as a double / as an integer (the integer types only; throws std::logic_error otherwise).
  double real(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
};

std::size_t item_bytes(NpyType t);
bool is_integer(NpyType t);
// "uint8", "float32", ...
std::string type_name(NpyType t);
// The .npy header's descriptor: "|u1", "<f4", ...
std::string npy_descr(NpyType t);

// The bytes of one .npy file. Throws DataError naming `what` (a file, or a file and an entry)
// on anything that is not a well-formed little-endian C-order array of a supported type.
NpyTensor parse_npy(const std::string& bytes, const std::string& what);
// Every entry of an .npz archive's bytes, in archive order; `path` names them in errors.
std::vector<NpyTensor> parse_npz(const std::string& bytes, const std::string& path);
// The same from a file (DataError on a missing or unreadable file, or one over 16 GiB).
std::vector<NpyTensor> read_npz_file(const std::string& path);
// One .npy file, checked as parse_npy() checks its bytes.
NpyTensor read_npy_file(const std::string& path);

}  // namespace eqprop
