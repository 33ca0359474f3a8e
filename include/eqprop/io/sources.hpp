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

// One file of images for `eqprop predict`, its format from its name: .npy (images), .npz (the
// array x with y, else x_test with y_test, else the archive's only array), .bin (one CIFAR
// binary file; the label byte chosen by the run's class count: 10, 20 coarse, 100 fine), else
// an IDX array of any dims (raw or .gz). labels_path ("": none) gives labels for .npy and IDX
// images: an IDX labels file or an integer .npy. Throws DataError naming the file.
struct InputImages {
  Dataset data;           // named "input"; unlabelled: every label 0
  bool labelled = false;  // data.y holds the file's labels
};
InputImages read_input_file(const std::string& path, const std::string& labels_path, int classes);

}  // namespace eqprop
