// NumPy .npz archives of float32 arrays: a zip file (stored, uncompressed) of .npy files,
// readable with numpy.load(path)['W1']. The reader accepts exactly what the writer makes.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace eqprop {

struct NpyArray {
  std::string name;                // the key in numpy.load(...)[name]
  std::vector<std::size_t> shape;  // C order
  std::vector<float> data;
};

// Written to PATH.tmp and renamed over path. Throws InputError naming the path on failure.
void write_npz(const std::string& path, const std::vector<NpyArray>& arrays);
// Throws InputError on anything it did not write itself.
std::vector<NpyArray> read_npz(const std::string& path);

}  // namespace eqprop
