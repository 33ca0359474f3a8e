// NumPy .npz archives of float32 arrays: a zip file (stored, uncompressed) of .npy files,
// readable with numpy.load(path)['W1']. The reader takes any .npz that npy.hpp reads whose
// arrays are all float32.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "eqprop/io/npy.hpp"

namespace eqprop {

struct NpyArray {
  std::string name;                // the key in numpy.load(...)[name]
  std::vector<std::size_t> shape;  // C order
  std::vector<float> data;
};

// Written to PATH.tmp and renamed over path. Throws InputError naming the path on failure.
void write_npz(const std::string& path, const std::vector<NpyArray>& arrays);
// The same for arrays of any type npy.hpp reads (a data set's uint8 images, int64 labels).
void write_npz(const std::string& path, const std::vector<NpyTensor>& arrays);
// One array as a lone .npy file, written atomically (atomic_file.hpp).
void write_npy(const std::string& path, const NpyTensor& array);
// Throws InputError (DataError) on a malformed archive or an array that is not float32.
std::vector<NpyArray> read_npz(const std::string& path);

}  // namespace eqprop
