// The IDX reader and the MNIST loader: good files (raw and gzip) load; every malformed
// file is refused with a DataError that names the file and the problem.
#include <doctest/doctest.h>

#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "eqprop/io/dataset.hpp"
#include "eqprop/error.hpp"
#include "eqprop/io/idx.hpp"
#include "eqprop/kernels/pixels.hpp"
#include "helpers.hpp"

namespace {

std::vector<std::uint8_t> pixels(std::size_t n) {
  std::vector<std::uint8_t> px(n);
  for (std::size_t i = 0; i < n; ++i) px[i] = static_cast<std::uint8_t>(i * 7 % 256);
  return px;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == int(bytes.size()));
  gzclose(f);
}

// The message of the DataError that f throws ("" if it throws none).
template <typename F>
std::string data_error(F&& f) {
  try {
    f();
  } catch (const eqprop::DataError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("good image and label files load, raw and gzip") {
  test::TempDir dir;
  const auto px = pixels(3 * 4 * 5);
  const std::string bytes = test::idx_images(3, 4, 5, px);
  test::write_file(dir.file("img"), bytes);
  write_gz(dir.file("img.gz"), bytes);
  for (const char* name : {"img", "img.gz"}) {
    const auto img = eqprop::read_idx_images(dir.file(name));
    CHECK(img.count == 3);
    CHECK(img.rows == 4);
    CHECK(img.cols == 5);
    REQUIRE(img.pixels.size() == px.size());
    CHECK(img.pixels == px);  // the bytes as stored; pixel_value() makes them inputs
  }
  test::write_file(dir.file("lab"), test::idx_labels({0, 9, 3}));
  CHECK(eqprop::read_idx_labels(dir.file("lab")) == std::vector<std::uint8_t>{0, 9, 3});
}

TEST_CASE("malformed files are refused with a message naming the file and the problem") {
  test::TempDir dir;
  const auto px = pixels(2 * 28 * 28);
  const std::string good = test::idx_images(2, 28, 28, px);
  struct Case {
    const char* name;
    std::string bytes;
    bool labels;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"wrong_magic", test::idx_images(2, 28, 28, px, 0x801), false, "wrong magic"},
      {"labels_as_images", test::idx_labels({1, 2}), false, "wrong magic"},
      {"truncated", good.substr(0, good.size() - 1), false, "truncated"},
      {"header_only", good.substr(0, 10), false, "ends inside the header"},
      {"empty", "", false, "ends inside the header"},
      {"trailing", good + "x", false, "trailing bytes"},
      {"zero_count", test::idx_images(0, 28, 28, {}), false, "implausible"},
      {"absurd_size", test::idx_images(100000000, 10000, 10000, {}), false, "implausible"},
      {"huge_claim", test::idx_images(20000000, 28, 28, px), false, "truncated"},
      {"label_truncated", test::idx_labels({1, 2, 3}).substr(0, 10), true, "truncated"},
  };
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    const std::string path = dir.file(c.name);
    test::write_file(path, c.bytes);
    const std::string msg = c.labels ? data_error([&] { eqprop::read_idx_labels(path); })
                                     : data_error([&] { eqprop::read_idx_images(path); });
    CAPTURE(msg);
    CHECK(contains(msg, path));
    CHECK(contains(msg, c.expect));
  }
}

TEST_CASE("missing files and folders are refused, an MNIST folder with the hint to fetch it") {
  test::TempDir dir;
  CHECK(contains(data_error([&] { eqprop::read_idx_images(dir.file("nope")); }), "no such file"));
  CHECK(contains(data_error([&] { eqprop::read_idx_images(dir.path().string()); }), "not a regular file"));
  CHECK(contains(data_error([&] { eqprop::load_splits(dir.file("nope"), 0, 0); }), "no such file (hint: run tools/fetch_mnist.sh"));
}

TEST_CASE("image/label pairs must agree; mnist needs 28x28, idx takes any shape") {
  test::TempDir dir;
  const auto folder = [&](const std::string& name, const std::string& img, const std::string& lab) {
    const std::string d = dir.file(name);
    std::filesystem::create_directory(d);
    test::write_file(d + "/train-images-idx3-ubyte", img);
    test::write_file(d + "/train-labels-idx1-ubyte", lab);
    return d;
  };
  eqprop::Config cfg;
  cfg.dataset = eqprop::DatasetName::Idx;
  cfg.batch = 1;
  cfg.data = folder("ok", test::idx_images(3, 28, 28, pixels(3 * 784)), test::idx_labels({1, 2, 3}));
  const auto s = eqprop::load_splits(cfg);
  CHECK(s.train.count == 3);
  CHECK(s.train.y == std::vector<eqprop::Label>{1, 2, 3});
  CHECK(s.facts.classes == 4);  // the largest label + 1
  CHECK(!s.has_test);           // idx: the t10k pair is optional
  cfg.data = folder("pair", test::idx_images(3, 28, 28, pixels(3 * 784)), test::idx_labels({1, 2}));
  CHECK(contains(data_error([&] { eqprop::load_splits(cfg); }), "3 images but 2 labels"));
  cfg.data = folder("small", test::idx_images(3, 20, 20, pixels(3 * 400)), test::idx_labels({1, 2, 3}));
  CHECK(eqprop::load_splits(cfg).facts.inputs() == 400);
  cfg.dataset = eqprop::DatasetName::Mnist;
  CHECK(contains(data_error([&] { eqprop::load_splits(cfg); }), "20x20"));
}

TEST_CASE("real MNIST: the paper's split") {
  const auto s = eqprop::load_splits(test::mnist_dir(), 0, 0);
  CHECK(s.train.count == 50000);
  CHECK(s.valid.count == 10000);
  CHECK(s.test.count == 10000);
  // Known first labels of the training file (5 0 4 1 9), of the validation split (row 50000)
  // and of t10k (7 2 1 0 4).
  CHECK(std::vector<int>(s.train.y.begin(), s.train.y.begin() + 5) == std::vector<int>{5, 0, 4, 1, 9});
  CHECK(std::vector<int>(s.test.y.begin(), s.test.y.begin() + 5) == std::vector<int>{7, 2, 1, 0, 4});
  const auto images = eqprop::read_idx_images(test::mnist_dir() + "/train-images-idx3-ubyte");
  const auto labels = eqprop::read_idx_labels(test::mnist_dir() + "/train-labels-idx1-ubyte");
  CHECK(std::equal(labels.begin() + 50000, labels.end(), s.valid.y.begin()));
  // The validation split is rows 50,000.. of the training file, pixel for pixel.
  CHECK(std::equal(images.pixels.begin() + 50000 * 784, images.pixels.end(), s.valid.x.begin()));
  CHECK(s.facts.inputs() == 784);
  CHECK(s.facts.classes == 10);
  // MNIST's bytes are on their way in as b / 255 in [0, 1]; 0 and 255 both occur.
  CHECK(*std::max_element(s.train.x.begin(), s.train.x.end()) == 255);
  CHECK(eqprop::pixel_value(255) == 1.0f);
  CHECK(eqprop::pixel_value(0) == 0.0f);
  for (int b = 0; b < 256; ++b) CHECK(eqprop::pixel_value(std::uint8_t(b)) == static_cast<float>(b) / 255.0f);
}
