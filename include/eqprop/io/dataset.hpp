// Dataset: images and labels of one split. load_splits() reads the IDX files of a folder
// (MNIST, or Fashion-MNIST, which has the same layout) and cuts the paper's split: train =
// first 50,000 of the training file, valid = last 10,000, test = t10k.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eqprop/config.hpp"
#include "eqprop/mnist_shape.hpp"

namespace eqprop {

struct Dataset {
  std::string name;
  int count = 0;
  std::vector<std::uint8_t> x;   // [count x 784], row-major, pixel bytes (value: pixel_value(b) = b / 255)
  std::vector<std::uint8_t> y;   // [count], 0-9
  int width() const { return kInputs; }  // inputs per example
  const std::uint8_t* row(int i) const { return x.data() + std::size_t(i) * kInputs; }
};

struct Splits {
  Dataset train, valid, test;
};

// Loads one IDX pair (raw, or the same name with .gz), checking that it holds 28x28
// images and as many labels as images. Rows [first, first + count) are kept.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      const std::string& name, int first = 0, int count = -1);

// train_samples / valid_samples: 0 means the whole split. With train_on_all the training
// split is the whole training file (60,000) and the validation split is empty.
Splits load_splits(const std::string& dir, int train_samples, int valid_samples, bool train_on_all = false);
// The same with a run's data keys (data, train-samples, valid-samples, train-on-all).
Splits load_splits(const Config& cfg);

}  // namespace eqprop
