// Sources: the data formats of --dataset, read into examples before any split is cut.
//   mnist, fashion-mnist  a folder of MNIST's four IDX files (28x28 bytes, labels 0-9)
//   idx                   a folder of the same names, arrays of any dims (N, N x W, N x H x W or
//                         N x C x H x W), bytes or float32; the t10k pair optional
//   npz                   x_train, y_train and optionally x_valid/y_valid, x_test/y_test: uint8
//                         or float32 images of N x H x W or N x C x H x W, integer labels
//   cifar10, cifar100     the binary versions as distributed (cifar.hpp)
// Every file is checked as it is read: shapes, label ranges, finite floats.
#pragma once
#include <optional>
#include <string>

#include "eqprop/config.hpp"
#include "eqprop/io/dataset.hpp"

namespace eqprop {

struct SourceData {
  Dataset train;                  // the training file's examples
  std::optional<Dataset> valid;   // the files' own validation examples (npz x_valid)
  std::optional<Dataset> test;    // the test examples, when the data set has them
  int classes = 0;                // the format's class count (mnist 10, cifar 10/20/100), 0: from the labels
};

SourceData read_source(const Config& cfg);

}  // namespace eqprop
