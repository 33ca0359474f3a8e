// The data formats through the binary: npz, idx and CIFAR runs end to end (shape and classes
// from the files, npz from MNIST bit-identical to MNIST, normalisation, flips, an optional
// test split), and every class of bad data input: exit 2, one line naming the file and what
// is wrong, before any training.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "cli_helpers.hpp"
#include "eqprop/io/npz.hpp"

using test::contains;
using test::run;

namespace {

eqprop::NpyTensor tensor(const std::string& name, std::vector<std::size_t> shape, eqprop::NpyType type) {
  eqprop::NpyTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = type;
  t.bytes.assign(t.count() * eqprop::item_bytes(type), 0);
  return t;
}

// n images of c x h x w; uint8 or float32; labels i % classes as int64. Class k's images have
// a bright patch at a place of their own, so a few epochs learn them.
std::vector<eqprop::NpyTensor> split(const std::string& suffix, int n, int c, int h, int w, bool floats, int classes) {
  auto x = tensor("x_" + suffix, {std::size_t(n), std::size_t(c), std::size_t(h), std::size_t(w)},
                  floats ? eqprop::NpyType::Float32 : eqprop::NpyType::UInt8);
  auto y = tensor("y_" + suffix, {std::size_t(n)}, eqprop::NpyType::Int64);
  const int per = c * h * w;
  for (int i = 0; i < n; ++i) {
    const int k = i % classes;
    std::int64_t label = k;
    std::memcpy(y.bytes.data() + 8 * i, &label, 8);
    for (int u = 0; u < per; ++u) {
      const bool on = (u / 2) % classes == k || (u * 7 + i) % 11 == 0;
      if (floats) {
        const float v = on ? 0.9f : 0.05f;
        std::memcpy(x.bytes.data() + 4 * (std::size_t(i) * per + u), &v, 4);
      } else {
        x.bytes[std::size_t(i) * per + u] = on ? 230 : 10;
      }
    }
  }
  return {x, y};
}

std::vector<eqprop::NpyTensor> join(std::vector<eqprop::NpyTensor> a, const std::vector<eqprop::NpyTensor>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string write(const test::TempDir& dir, const std::string& name, const std::vector<eqprop::NpyTensor>& arrays) {
  const std::string path = dir.file(name);
  eqprop::write_npz(path, arrays);
  return path;
}

// The same length in, the same length out: edits a header in a stored (uncompressed) archive.
std::string patched(const std::string& path, const std::string& from, const std::string& to, int nth = 0) {
  REQUIRE(from.size() == to.size());
  std::string bytes = test::file_bytes(path);
  std::size_t at = bytes.find(from);
  for (int i = 0; i < nth && at != std::string::npos; ++i) at = bytes.find(from, at + 1);
  REQUIRE(at != std::string::npos);
  bytes.replace(at, from.size(), to);
  static int count = 0;
  const std::string out = path + ".patched" + std::to_string(++count);
  test::write_file(out, bytes);
  return out;
}

const char* kRun = " --hidden 16 --batch 10 --test-steps 5 --progress=false";  // with --epochs 1 where no other is given

std::string digest_of(const test::TempDir& dir, const std::string& ck) {
  const std::string npz = dir.file("digest.npz");
  REQUIRE(run("export " + ck + " --npz " + npz + " --particles").code == 0);
  return test::file_bytes(npz);
}

}  // namespace

TEST_CASE("npz from MNIST trains bit-identically to mnist; the CIFAR folder runs 3x32x32") {
  test::TempDir dir;
  const std::string npz = dir.file("mnist.npz"), cifar = dir.file("cifar");
  const auto made = run("make-dataset --data " + test::mnist_dir() + " --npz " + npz + " --cifar " + cifar);
  CAPTURE(made.output);
  REQUIRE(made.code == 0);
  const std::string small = " --train-samples 300 --valid-samples 100 --hidden 20 --epochs 2 --test-steps 5 --progress=false";
  const auto a = run("train " + test::data_arg() + small + " --checkpoint " + dir.file("a.ck"));
  const auto b = run("train --dataset npz --data " + npz + " --valid-count 10000" + small + " --checkpoint " + dir.file("b.ck"));
  CAPTURE(b.output);
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(contains(b.output, "examples of 1x28x28, 10 classes (uint8)"));
  CHECK(digest_of(dir, dir.file("a.ck")) == digest_of(dir, dir.file("b.ck")));
  // The same images padded to 32x32 in 3 channels: 3072 inputs, CIFAR's record layout.
  const auto c = run("train --dataset cifar10 --data " + cifar + " --valid-count 1000" + small);
  CAPTURE(c.output);
  CHECK(c.code == 0);
  CHECK(contains(c.output, "examples of 3x32x32, 10 classes (uint8)"));
  CHECK(contains(c.output, "test error"));
}

TEST_CASE("float32 NCHW data: normalisation, flips and shifts; resume keeps the run's statistics; no test split") {
  test::TempDir dir;
  const std::string npz = write(dir, "f.npz", join(split("train", 120, 2, 6, 5, true, 3), split("valid", 30, 2, 6, 5, true, 3)));
  const std::string metrics = dir.file("m.jsonl"), ck = dir.file("f.ck");
  const auto r = run("train --dataset npz --data " + npz + kRun + " --epochs 2 --normalize mean-std --flip --max-shift 1 --metrics " +
                     metrics + " --checkpoint " + ck);
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(contains(r.output, "120 train, 30 valid, no test examples of 2x6x5, 3 classes (float32)"));
  CHECK(contains(r.output, "normalised per channel"));
  CHECK(contains(r.output, "test error - (the data set has no test split)"));
  CHECK(contains(test::file_bytes(metrics), "\"test_error\":null"));
  // The checkpoint records the shape; info shows it; a resume on data of another shape is refused.
  const std::string other = write(dir, "g.npz", split("train", 120, 1, 6, 5, true, 3));
  const auto bad = run("train --resume " + ck + " --epochs 3 --dataset npz --data " + other);
  CAPTURE(bad.output);
  CHECK(bad.code == 2);
  CHECK(contains(bad.output, "2x6x5, 3 classes"));
  CHECK(contains(bad.output, "1x6x5, 3 classes"));
  CHECK(run("train --resume " + ck + " --epochs 3 --normalize none").code == 2);
  const auto more = run("train --resume " + ck + " --epochs 3");
  CAPTURE(more.output);
  CHECK(more.code == 0);
  CHECK(contains(more.output, "normalised per channel"));
  // eval reads the same data with the run's statistics.
  CHECK(run("eval --checkpoint " + ck + " --split valid").code == 0);
  CHECK(run("eval --checkpoint " + ck + " --split test").code == 2);
}

TEST_CASE("idx folders of any shape, float32, t10k optional; --classes widens the output layer") {
  test::TempDir dir;
  const std::string d = dir.file("idx");
  std::filesystem::create_directories(d);
  // 60 float32 images of 5 x 4 (3 dims), big-endian as IDX stores them; labels 0-2.
  std::string img;
  for (std::uint32_t v : {0x00000D03u, 60u, 5u, 4u})
    for (int s = 24; s >= 0; s -= 8) img.push_back(static_cast<char>((v >> s) & 0xff));
  std::vector<std::uint8_t> labels;
  for (int i = 0; i < 60; ++i) {
    labels.push_back(static_cast<std::uint8_t>(i % 3));
    for (int u = 0; u < 20; ++u) {
      const float f = (u % 3 == i % 3) ? 1.f : 0.f;
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      for (int s = 24; s >= 0; s -= 8) img.push_back(static_cast<char>((bits >> s) & 0xff));
    }
  }
  test::write_file(d + "/train-images-idx3-ubyte", img);
  test::write_file(d + "/train-labels-idx1-ubyte", test::idx_labels(labels));
  const auto r = run("train --dataset idx --data " + d + " --valid-count 20 --epochs 1" + kRun);
  CAPTURE(r.output);
  CHECK(r.code == 0);
  CHECK(contains(r.output, "40 train, 20 valid, no test examples of 1x5x4, 3 classes (float32)"));
  const auto wide = run("train --dataset idx --data " + d + " --classes 7 --dump-config");
  CHECK(wide.code == 0);
  const auto w = run("train --dataset idx --data " + d + " --classes 7 --valid-count 20 --epochs 1" + kRun + " --checkpoint " + dir.file("w.ck"));
  CHECK(w.code == 0);
  CHECK(contains(w.output, "3 classes") == false);
  const auto info = run("info " + dir.file("w.ck")).output;
  CHECK(contains(info, "16 x 7"));
  CHECK(contains(info, "data: examples of 1x5x4, 7 classes"));
}

TEST_CASE("every class of bad data input: exit 2, naming the file and the problem, before training") {
  test::TempDir dir;
  const auto good = join(split("train", 40, 1, 4, 4, false, 3), split("test", 10, 1, 4, 4, false, 3));
  const std::string ok = write(dir, "ok.npz", good);
  const std::string okf = write(dir, "okf.npz", split("train", 40, 1, 4, 4, true, 3));
  const std::string ok_bytes = test::file_bytes(ok);
  test::write_file(dir.file("truncated.npz"), ok_bytes.substr(0, ok_bytes.size() / 2));
  test::write_file(dir.file("oversized.npz"), ok_bytes + std::string(100, 'x'));  // stray bytes after the archive
  auto nan_x = split("train", 40, 1, 4, 4, true, 3);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::memcpy(nan_x[0].bytes.data() + 4 * 37, &nan, 4);
  auto inf_x = split("train", 40, 1, 4, 4, true, 3);
  std::memcpy(inf_x[0].bytes.data() + 4 * 100, &inf, 4);
  auto int16 = split("train", 40, 1, 4, 4, false, 3);
  int16[0].type = eqprop::NpyType::Int16;
  int16[0].bytes.resize(int16[0].bytes.size() * 2);
  auto float_labels = split("train", 40, 1, 4, 4, false, 3);
  float_labels[1].type = eqprop::NpyType::Float64;
  auto few_labels = split("train", 40, 1, 4, 4, false, 3);
  few_labels[1].shape = {39};
  few_labels[1].bytes.resize(39 * 8);
  auto empty_test = join(split("train", 40, 1, 4, 4, false, 3), split("test", 1, 1, 4, 4, false, 3));
  empty_test[2].shape[0] = 0;
  empty_test[2].bytes.clear();
  empty_test[3].shape[0] = 0;
  empty_test[3].bytes.clear();
  const std::string labels5 = write(dir, "labels5.npz", split("train", 40, 1, 4, 4, false, 6));

  // CIFAR-10 folders: a size that is not a whole number of records, a label byte of 10.
  const auto cifar = [&](const std::string& name, const std::string& batch1) {
    const std::string d = dir.file(name);
    std::filesystem::create_directories(d);
    const std::string record = std::string(1, '\1') + std::string(3072, '\7');
    for (int b = 2; b <= 5; ++b) test::write_file(d + "/data_batch_" + std::to_string(b) + ".bin", record + record);
    test::write_file(d + "/test_batch.bin", record);
    test::write_file(d + "/data_batch_1.bin", batch1);
    return d;
  };
  const std::string rec = std::string(1, '\3') + std::string(3072, '\0');
  const std::string cifar_partial = cifar("cifar_partial", rec + rec.substr(0, 100));
  const std::string cifar_label = cifar("cifar_label", rec + std::string(1, '\12') + std::string(3072, '\0'));

  struct Case {
    std::string args, file, expect;
  };
  const std::vector<Case> cases = {
      {"--dataset npz --data " + dir.file("truncated.npz"), "truncated.npz", "npz"},
      {"--dataset npz --data " + dir.file("oversized.npz"), "oversized.npz", "npz"},
      {"--dataset npz --data " + dir.file("missing.npz"), "missing.npz", "no such file"},
      {"--dataset npz --data " + patched(ok, "'|u1'", "'<u1'"), "ok.npz", "element type"},
      {"--dataset npz --data " + patched(ok, "'|u1', ", "'|O',  "), "ok.npz", "element type '|O' is not supported"},
      {"--dataset npz --data " + patched(okf, "'<f4'", "'>f4'"), "okf.npz", "big-endian"},
      {"--dataset npz --data " + patched(ok, "False, ", "True,  "), "ok.npz", "Fortran"},
      {"--dataset npz --data " + patched(ok, "(40, 1, 4, 4)", "(41, 1, 4, 4)"), "ok.npz", "data bytes"},
      {"--dataset npz --data " + patched(ok, "(40, 1, 4, 4)", "(39, 1, 4, 4)"), "ok.npz", "data bytes"},
      {"--dataset npz --data " + write(dir, "int16.npz", int16), "int16.npz", "images must be uint8 or float32"},
      {"--dataset npz --data " + write(dir, "flabels.npz", float_labels), "flabels.npz", "labels must be integers"},
      {"--dataset npz --data " + write(dir, "few.npz", few_labels), "few.npz", "one label per image"},
      {"--dataset npz --data " + write(dir, "nan.npz", nan_x), "nan.npz", "NaN in image 2"},
      {"--dataset npz --data " + write(dir, "inf.npz", inf_x), "inf.npz", "infinity in image 6"},
      {"--dataset npz --data " + labels5 + " --classes 3", "labels5.npz", "label 3 at index 3 is outside 0-2 (config key 'classes')"},
      {"--dataset npz --data " + write(dir, "shapes.npz", join(split("train", 40, 1, 4, 4, false, 3), split("test", 10, 1, 4, 5, false, 3))),
       "shapes.npz", "the train images are 1x4x4 uint8, the test images 1x4x5 uint8"},
      {"--dataset npz --data " + write(dir, "kinds.npz", join(split("train", 40, 1, 4, 4, false, 3), split("valid", 10, 1, 4, 4, true, 3))),
       "kinds.npz", "float32"},
      {"--dataset npz --data " + write(dir, "empty.npz", empty_test), "empty.npz", "an empty split"},
      {"--dataset npz --data " + write(dir, "noy.npz", {split("train", 40, 1, 4, 4, false, 3)[0]}), "noy.npz", "y_train"},
      {"--dataset cifar10 --data " + cifar_partial, "data_batch_1.bin", "not a whole number of 3073-byte records"},
      {"--dataset cifar10 --data " + cifar_label, "data_batch_1.bin", "label 10 of record 1 is outside 0-9"},
      {"--dataset cifar100 --data " + cifar_label, "train.bin", "no such file"},
      {"--dataset npz --data " + ok + " --valid-count 40", "ok.npz", "valid-count"},
      {"--dataset npz --data " + ok + " --train-samples 41", "", "train-samples"},
      {"--dataset npz --data " + ok + " --max-shift 4", "", "max-shift"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto r = run("train " + c.args + kRun + " --epochs 1");
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(contains(r.output, c.file));
    CHECK(contains(r.output, c.expect));
    CHECK_FALSE(contains(r.output, "epoch  train_err%"));  // refused before training
    // One line of error.
    const auto at = r.output.find("eqprop: error:");
    CHECK(at != std::string::npos);
    if (at != std::string::npos) CHECK(r.output.find('\n', at) == r.output.size() - 1);
  }
}
