// DataFacts: what a run's data files say about its examples: the shape of one example
// (channels x height x width), the class count, and with normalize = mean-std the per-channel
// mean and standard deviation of the training split. Not a configuration key: the loader reads
// them from the files, a run stores them in its checkpoints, and a resumed run's data must
// have the same shape and class count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eqprop {

// A class label, 0..classes-1 (int32: ImageNet has 1,000 classes, more than a byte holds).
using Label = std::int32_t;

constexpr int kMaxClasses = 100000;

struct DataFacts {
  int channels = 1, height = 28, width = 28;  // MNIST's
  int classes = 10;
  // Per channel with normalize = mean-std: the input value of v is (v - mean[c]) / stddev[c].
  // Empty: the values as read (a byte b as b / 255, a float32 as itself).
  std::vector<float> mean, stddev;

  int plane() const { return height * width; }
  int inputs() const { return channels * plane(); }
  bool same_shape(const DataFacts& o) const {
    return channels == o.channels && height == o.height && width == o.width && classes == o.classes;
  }
  // "3x32x32, 10 classes"
  std::string text() const {
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width) + ", " +
           std::to_string(classes) + " classes";
  }
};

}  // namespace eqprop
