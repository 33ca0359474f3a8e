#include "eqprop/io/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "eqprop/error.hpp"
#include "eqprop/kernels/pixels.hpp"
#include "eqprop/io/sources.hpp"

namespace eqprop {
namespace {

constexpr int kMnistValid = 10000;  // the paper's validation split: the last 10,000 of 60,000

// Where examples came from, for messages: "data file 'PATH'", or an in-memory array's own
// description ("array ...", see array_splits()).
std::string source(const std::string& file) {
  return file.rfind("array ", 0) == 0 ? file : "data file '" + file + "'";
}

void check_labels(const Dataset& d, int classes, const char* why) {
  for (int i = 0; i < d.count; ++i) {
    if (d.y[i] < 0 || d.y[i] >= classes) {
      std::ostringstream os;
      os << source(d.label_file) << ": label " << d.y[i] << " at index " << i << " is outside 0-" << classes - 1
         << why;
      throw DataError(os.str());
    }
  }
}

void check_same_shape(const Dataset& a, const Dataset& b) {
  if (a.channels == b.channels && a.height == b.height && a.width == b.width && a.floats == b.floats) return;
  throw DataError(source(a.file) + " and " + source(b.file) + ": the " + a.name + " images are " +
                  a.shape_text() + (a.floats ? " float32" : " uint8") + ", the " + b.name + " images " +
                  b.shape_text() + (b.floats ? " float32" : " uint8"));
}

// Per channel over the split, in double: the mean and standard deviation of the values the
// network would see without normalisation (b / 255 for bytes).
void channel_statistics(const Dataset& d, DataFacts& f) {
  const int plane = d.height * d.width;
  f.mean.assign(d.channels, 0.f);
  f.stddev.assign(d.channels, 1.f);
  for (int c = 0; c < d.channels; ++c) {
    double s = 0, s2 = 0;
    for (int i = 0; i < d.count; ++i) {
      for (int u = c * plane; u < (c + 1) * plane; ++u) {
        const double v = d.floats ? double(d.float_row(i)[u]) : double(pixel_value(d.row(i)[u]));
        s += v;
        s2 += v * v;
      }
    }
    const double m = s / (double(d.count) * plane);
    const double var = std::max(0.0, s2 / (double(d.count) * plane) - m * m);
    f.mean[c] = static_cast<float>(m);
    // A constant channel: no scaling (its inputs become 0), rather than a division by zero.
    f.stddev[c] = var > 0 ? static_cast<float>(std::sqrt(var)) : 1.f;
  }
}

Dataset append(const Dataset& a, const Dataset& b) {
  Dataset d = a;
  d.count += b.count;
  d.x.insert(d.x.end(), b.x.begin(), b.x.end());
  d.xf.insert(d.xf.end(), b.xf.begin(), b.xf.end());
  d.y.insert(d.y.end(), b.y.begin(), b.y.end());
  d.file = a.file + " + " + b.file;
  d.label_file = a.label_file + " + " + b.label_file;
  return d;
}

}  // namespace

std::string Dataset::shape_text() const {
  return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
}

Dataset Dataset::slice(const std::string& split, int first, int n) const {
  Dataset d;
  d.name = split;
  d.file = file;
  d.label_file = label_file;
  d.count = n;
  d.channels = channels;
  d.height = height;
  d.width = width;
  d.floats = floats;
  const std::size_t w = inputs();
  if (n > 0 && floats) d.xf.assign(float_row(first), float_row(first) + std::size_t(n) * w);
  else if (n > 0) d.x.assign(row(first), row(first) + std::size_t(n) * w);
  d.y.assign(y.begin() + first, y.begin() + first + n);
  return d;
}

Splits load_splits(const Config& cfg) {
  SourceData src = read_source(cfg);
  if (src.valid) check_same_shape(src.train, *src.valid);
  if (src.test) check_same_shape(src.train, *src.test);
  // The class count: --classes, else the format's own, else the largest label + 1.
  int classes = cfg.classes > 0 ? cfg.classes : src.classes;
  const char* why = cfg.classes > 0 ? " (config key 'classes')" : "";
  if (classes == 0) {
    for (const Dataset* d : {&src.train, src.valid ? &*src.valid : nullptr, src.test ? &*src.test : nullptr})
      if (d && d->count) classes = std::max(classes, 1 + *std::max_element(d->y.begin(), d->y.end()));
  }
  for (const Dataset* d : {&src.train, src.valid ? &*src.valid : nullptr, src.test ? &*src.test : nullptr})
    if (d) check_labels(*d, classes, why);
  if (classes < 2) {
    throw DataError("data file '" + src.train.file + "': every label is 0; a classifier needs at least 2 classes (set --classes)");
  }

  // The validation split: the file's own arrays, or the last valid-count training examples.
  Splits s;
  s.read_examples = long(src.train.count) + (src.valid ? src.valid->count : 0) + (src.test ? src.test->count : 0);
  Dataset whole = std::move(src.train);
  int valid_n = 0;
  if (src.valid) {
    if (cfg.valid_count > 0) {
      throw ConfigError("config key 'valid-count': " + std::to_string(cfg.valid_count) + " cuts a validation split from x_train, but '" +
                        cfg.data + "' has its own x_valid; leave valid-count at -1 (use it) or 0 (train on x_train only)");
    }
    if (cfg.train_on_all) whole = append(whole, *src.valid);
    else if (cfg.valid_count == -1) valid_n = src.valid->count;
  } else {
    const bool mnist = cfg.dataset == DatasetName::Mnist || cfg.dataset == DatasetName::FashionMnist;
    valid_n = cfg.train_on_all ? 0 : cfg.valid_count >= 0 ? cfg.valid_count : mnist ? kMnistValid : 0;
    if (valid_n >= whole.count) {
      throw ConfigError("config key 'valid-count': expected fewer than the " + std::to_string(whole.count) +
                        " examples of '" + whole.file + "', found " + std::to_string(valid_n));
    }
  }
  const bool own_valid = src.valid && valid_n > 0;
  const int train_available = own_valid ? whole.count + valid_n : whole.count;
  s.facts.channels = whole.channels;
  s.facts.height = whole.height;
  s.facts.width = whole.width;
  s.facts.classes = classes;
  cfg.validate_data(s.facts, train_available, valid_n);

  const int train_split = own_valid ? whole.count : whole.count - valid_n;
  const int n_valid = cfg.valid_samples > 0 ? cfg.valid_samples : valid_n;
  s.valid = own_valid ? src.valid->slice("valid", 0, n_valid) : whole.slice("valid", train_split, n_valid);
  src.valid.reset();
  // The training split is the file's first rows: kept where they were read, not copied (the
  // peak is the file plus the validation copy), and the rows after them dropped.
  const int n_train = cfg.train_samples > 0 ? cfg.train_samples : train_split;
  s.train = std::move(whole);
  s.train.name = "train";
  s.train.count = n_train;
  (s.train.floats ? s.train.xf.resize(std::size_t(n_train) * s.train.inputs())
                  : s.train.x.resize(std::size_t(n_train) * s.train.inputs()));
  s.train.y.resize(n_train);
  if (src.test) {
    s.test = std::move(*src.test);
    s.has_test = true;
  } else {
    s.test = s.train.slice("test", 0, 0);  // no examples, the same shape
  }
  if (cfg.normalize == Normalize::MeanStd) channel_statistics(s.train, s.facts);
  return s;
}

Splits load_splits(const std::string& dir, int train_samples, int valid_samples, bool train_on_all) {
  Config cfg;
  cfg.data = dir;
  cfg.train_samples = train_samples;
  cfg.valid_samples = valid_samples;
  cfg.train_on_all = train_on_all;
  cfg.batch = 1;
  return load_splits(cfg);
}

void check_same_normalisation(const DataFacts& run, Normalize n, const std::string& where) {
  const bool stored = !run.mean.empty();
  if (stored == (n == Normalize::MeanStd)) return;
  throw ConfigError("config key 'normalize': " + where + " was trained with normalize " + (stored ? "mean-std" : "none") +
                    ", found " + to_string(n));
}

void check_same_data(const DataFacts& run, const DataFacts& data, const std::string& where) {
  if (run.same_shape(data)) return;
  throw ConfigError(where + ": the run was trained on examples of " + run.text() + ", the data given has " + data.text());
}

namespace {

void check_array(const Dataset& d, int classes) {
  check_labels(d, classes, "");
  if (!d.floats) return;
  const std::size_t n = std::size_t(d.inputs());
  for (int i = 0; i < d.count; ++i) {
    const float* r = d.float_row(i);
    for (std::size_t u = 0; u < n; ++u) {
      if (!std::isfinite(r[u])) {
        throw DataError(d.file + ": image " + std::to_string(i) + " holds " + (std::isnan(r[u]) ? "NaN" : "an infinity") +
                        " at value " + std::to_string(u) + "; images must be finite");
      }
    }
  }
}

}  // namespace

DataFacts array_splits(const Config& cfg, Dataset& train, Dataset& valid, int classes) {
  check_same_shape(train, valid);
  check_array(train, classes);
  check_array(valid, classes);
  DataFacts f;
  f.channels = train.channels;
  f.height = train.height;
  f.width = train.width;
  f.classes = classes;
  cfg.validate_data(f, train.count + valid.count, valid.count);
  if (cfg.train_samples > 0) train.count = cfg.train_samples;
  if (cfg.valid_samples > 0) valid.count = cfg.valid_samples;
  train.y.resize(train.count);
  valid.y.resize(valid.count);
  if (cfg.normalize == Normalize::MeanStd) channel_statistics(train, f);
  return f;
}

void check_array_split(const DataFacts& run, const Dataset& d) {
  check_array(d, run.classes);
  if (d.channels == run.channels && d.height == run.height && d.width == run.width) return;
  throw DataError(d.file + ": images of " + d.shape_text() + ", the run was trained on " +
                  std::to_string(run.channels) + "x" + std::to_string(run.height) + "x" + std::to_string(run.width));
}

}  // namespace eqprop
