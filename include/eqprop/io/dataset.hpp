// Dataset: the examples of one split, images as their files hold them (bytes, or float32)
// with their shape, and labels. load_splits() reads a data set in any of the formats of
// io/sources.hpp and cuts the run's splits: train = the first examples of the training file,
// valid = its last valid-count examples (or the file's own validation arrays), test = the
// test file's examples (none when the data set has no test file).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eqprop/config.hpp"
#include "eqprop/data_facts.hpp"

namespace eqprop {

struct Dataset {
  std::string name;              // train, valid or test
  std::string file;              // where the images came from, for messages
  std::string label_file;        // where the labels came from
  int count = 0;
  int channels = 1, height = 28, width = 28;
  bool floats = false;           // float32 images (in xf); else bytes (in x)
  std::vector<std::uint8_t> x;   // [count x inputs()], channel-major, the bytes as stored (value: b / 255)
  std::vector<float> xf;         // [count x inputs()], float32 images
  std::vector<Label> y;          // [count], 0..classes-1
  // A view of images another owner keeps alive for the Dataset's whole life (the Python
  // package's NumPy arrays, used without a copy): when set, rows come from here and x / xf
  // stay empty.
  const std::uint8_t* x_view = nullptr;
  const float* xf_view = nullptr;

  int inputs() const { return channels * height * width; }
  const std::uint8_t* row(int i) const { return (x_view ? x_view : x.data()) + std::size_t(i) * inputs(); }
  const float* float_row(int i) const { return (xf_view ? xf_view : xf.data()) + std::size_t(i) * inputs(); }
  // "3x32x32"
  std::string shape_text() const;
  // The rows [first, first + n) as a split named `split`.
  Dataset slice(const std::string& split, int first, int n) const;
};

struct Splits {
  Dataset train, valid, test;
  bool has_test = false;  // the data set has a test file (else test is empty)
  long read_examples = 0; // examples in the files as read (all splits, before any was cut)
  DataFacts facts;        // shape, classes, and with normalize = mean-std the training split's statistics
};

// Reads the data set cfg names (dataset, data, classes, label) and cuts the splits
// (valid-count, train-on-all, train-samples, valid-samples). Throws DataError naming the file
// for bad files, ConfigError naming the key for split keys the data cannot meet.
Splits load_splits(const Config& cfg);
// The MNIST-style folder dir with the given split keys (tests and tools).
Splits load_splits(const std::string& dir, int train_samples, int valid_samples, bool train_on_all = false);

// A resumed run (or eval) on `data`: throws ConfigError naming both shapes when the data's
// shape or class count differs from the run's, else gives the run's facts (its normalisation).
void check_same_data(const DataFacts& run, const DataFacts& data, const std::string& where);
// A resumed run (or eval) keeps its own normalisation: throws ConfigError (key 'normalize') when
// n asks for another than the run's facts hold (statistics of other data would change its inputs).
void check_same_normalisation(const DataFacts& run, Normalize n, const std::string& where);

// An in-memory data set (the Python package's arrays) as a run's training and validation
// splits, checked as load_splits() checks files: the images finite, labels in 0..classes-1
// (DataError naming the array), valid of train's shape, the configuration's data-dependent
// keys (ConfigError naming the key). train-samples and valid-samples keep the first rows.
// Returns the run's facts: shape, classes and, with normalize = mean-std, the training split's
// per-channel statistics.
DataFacts array_splits(const Config& cfg, Dataset& train, Dataset& valid, int classes);
// The same checks for another split of a run (evaluation, relaxation): finite images, labels
// in range, the run's shape.
void check_array_split(const DataFacts& run, const Dataset& d);

}  // namespace eqprop
