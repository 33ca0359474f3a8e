// The eqprop binary as a user meets it: exit codes (0 ok, 2 bad input, 1 other failure),
// one-line messages that name the problem, --help, the metrics file of a short run, and every
// malformed data file and refused configuration. (Runs that stop, resume or fail while
// writing: test_cli_runs.cpp.)
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/npz.hpp"
#include "helpers.hpp"
#include "cli_helpers.hpp"

using test::contains;
using test::file_bytes;
using test::data_arg;
using test::kTiny;
using test::run;

TEST_CASE("help and usage") {
  CHECK(run("").code == 2);
  CHECK(run("--help").code == 0);
  const auto h = run("train --help");
  CHECK(h.code == 0);
  CHECK(contains(h.output, "--n-free"));
  CHECK(contains(h.output, "--dump-config"));
  const auto u = run("fly");
  CHECK(u.code == 2);
  CHECK(contains(u.output, "unknown command 'fly'"));
  // Every command of the table is listed, and each has its own --help.
  const auto usage = run("--help").output;
  for (const char* c : {"train", "eval", "info", "export", "bench"}) {
    CHECK(contains(usage, std::string("  ") + c + " "));
    const auto ch = run(std::string(c) + " --help");
    CHECK(ch.code == 0);
    CHECK(contains(ch.output, std::string("usage: eqprop ") + c));
  }
  for (const char* v : {"--version", "-V"}) {
    const auto version = run(v);
    CHECK(version.code == 0);
    CHECK(version.output.rfind("eqprop ", 0) == 0);
    CHECK(std::count(version.output.begin(), version.output.end(), '.') == 2);  // major.minor.patch
  }
}

TEST_CASE("bad input exits 2 with a one-line message naming the problem") {
  test::TempDir dir;
  struct Case {
    std::string args;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"train --epochs abc", "epochs"},
      {"train --alphas '0.1'", "alphas"},
      {"train --data " + dir.file("none") + " --epochs 1", "no such file"},
      {"train --config " + dir.file("none.cfg"), "none.cfg"},
      {"train --metrics " + dir.file("no/such/dir/m.jsonl"), "metrics file"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto r = run(c.args);
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(contains(r.output, c.expect));
    // One error line, the last one (a data error comes after the printed configuration).
    const auto pos = r.output.find("eqprop: error: ");
    REQUIRE(pos != std::string::npos);
    CHECK(r.output.find('\n', pos) == r.output.size() - 1);
  }
}

TEST_CASE("divergence stops training with a message naming the layer and epoch, exit 1") {
  const auto r = run("train " + data_arg() + kTiny + " --epochs 1 --alphas '1e38 1e38'");
  CAPTURE(r.output);
  CHECK(r.code == 1);
  CHECK(contains(r.output, "diverged in epoch 1"));
  CHECK(contains(r.output, "layer"));
}

TEST_CASE("a short run prints its configuration and writes one JSON line per epoch plus the test line") {
  test::TempDir dir;
  const std::string m = dir.file("m.jsonl");
  const auto r = run("train " + data_arg() + kTiny + " --epochs 2 --metrics " + m);
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(contains(r.output, "hidden = 20"));
  CHECK(contains(r.output, "test error"));
  std::ifstream in(m);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 3);
  const auto e2 = nlohmann::json::parse(lines[1]);
  CHECK(e2.at("epoch") == 2);
  for (const char* key : {"train_error", "valid_error", "energy", "cost", "seconds", "samples_per_second"})
    CHECK(e2.at(key).is_number());
  CHECK(e2.at("rel_weight_change").size() == 2);
  CHECK(e2.at("threads").get<int>() >= 1);
  const double err = e2.at("valid_error").get<double>();
  CHECK((err >= 0 && err <= 100));
  CHECK(nlohmann::json::parse(lines[2]).at("test_error").is_number());
}

TEST_CASE("--train-on-all trains on the whole training file: no validation split, valid figures null") {
  test::TempDir dir;
  const std::string m = dir.file("m.jsonl");
  // 55000 examples fit only the whole training file, not the paper's 50000 split.
  const auto r = run("train " + data_arg() + " --hidden 20 --test-steps 5 --epochs 1 --progress=false --train-on-all" +
                     " --train-samples 55000 --metrics " + m);
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(contains(r.output, "# data: 55000 train, 0 valid, 10000 test"));
  CHECK(contains(r.output, "train-on-all = true"));
  std::ifstream in(m);
  std::string line;
  REQUIRE(std::getline(in, line));
  const auto e1 = nlohmann::json::parse(line);
  CHECK(e1.at("valid_error").is_null());
  CHECK(e1.at("valid_cost").is_null());
  CHECK(e1.at("train_error").is_number());
  REQUIRE(std::getline(in, line));
  CHECK(nlohmann::json::parse(line).at("test_error").is_number());
  // Such a run has no validation split to evaluate.
  const std::string ck = dir.file("all.ck");
  REQUIRE(run("train " + data_arg() + " --hidden 20 --test-steps 5 --epochs 1 --progress=false --train-on-all" +
              " --train-samples 200 --checkpoint " + ck).code == 0);
  const auto valid = run("eval --checkpoint " + ck + " --split valid");
  CHECK(valid.code == 2);
  CHECK(contains(valid.output, "no valid split"));
  CHECK(run("eval --checkpoint " + ck + " --split test").code == 0);
  // info on it: the empty validation particles once divided by their count of 0 (SIGFPE).
  const auto info = run("info " + ck);
  CAPTURE(info.output);
  CHECK(info.code == 0);
  CHECK(contains(info.output, "valid particles  0 x (20, 10)"));
  CHECK(contains(info.output, "train particles  200 x (20, 10)"));
  // Without it, 55000 training examples are more than the split holds.
  const auto bad = run("train " + data_arg() + " --train-samples 55000");
  CHECK(bad.code == 2);
  CHECK(contains(bad.output, "config key 'train-samples'"));
}

namespace {
// A data folder whose files link to the real MNIST, except `broken`, written with `bytes`.
std::string data_with(const test::TempDir& dir, const std::string& broken, const std::string& bytes) {
  const std::string d = dir.file("data");
  std::filesystem::create_directories(d);
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"}) {
    std::filesystem::remove(d + "/" + f);
    if (f == broken) continue;
    std::filesystem::create_symlink(std::filesystem::absolute(test::mnist_dir() + "/" + f), d + "/" + f);
  }
  if (!bytes.empty() || broken.find("empty") == std::string::npos) test::write_file(d + "/" + broken, bytes);
  return d;
}
std::string head_of(const std::string& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<std::size_t>(in.gcount()));
  return s;
}
}  // namespace

TEST_CASE("every malformed data file: exit 2 before training, naming the file and the problem") {
  test::TempDir dir;
  const std::string labels = file_bytes(test::mnist_dir() + "/t10k-labels-idx1-ubyte");
  const std::string images = file_bytes(test::mnist_dir() + "/t10k-images-idx3-ubyte");
  std::string bad_label = labels;
  bad_label[8 + 1234] = 11;
  std::string wrong_magic = labels;
  wrong_magic[3] = 0x03;
  std::string fewer_labels = labels.substr(0, labels.size() - 1);
  fewer_labels[7] = static_cast<char>(0x0f);  // header says 9999 labels, and the file holds 9999
  fewer_labels[6] = static_cast<char>(0x27);
  std::string small_images = images.substr(0, 16 + 10000 * 400);
  small_images[11] = 20;  // 10000 images of 20 x 20
  small_images[15] = 20;
  std::string absurd = images.substr(0, 16);
  absurd[4] = absurd[5] = absurd[6] = absurd[7] = static_cast<char>(0xff);  // 4294967295 images
  std::string lying_rows = images;
  lying_rows[11] = 29;  // 28 x 29 pixels claimed: sizes disagree
  struct Case {
    const char* file;
    std::string bytes;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"t10k-labels-idx1-ubyte", bad_label, "label 11 at index 1234 is outside 0-9"},
      {"t10k-labels-idx1-ubyte", wrong_magic, "wrong magic number"},
      {"t10k-labels-idx1-ubyte", fewer_labels, "10000 images but 9999 labels"},
      {"t10k-images-idx3-ubyte", images.substr(0, images.size() - 100), "truncated"},
      {"t10k-images-idx3-ubyte", lying_rows, "truncated"},
      {"t10k-images-idx3-ubyte", small_images, "images are 20x20, the network expects 28x28"},
      {"t10k-images-idx3-ubyte", absurd, "implausible image dimensions"},
      {"train-images-idx3-ubyte", head_of(test::mnist_dir() + "/train-images-idx3-ubyte", 1 << 20), "truncated"},
      {"train-labels-idx1-ubyte", "", "ends inside the header"},
      {"t10k-labels-idx1-ubyte", std::string(), "ends inside the header"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    CAPTURE(c.expect);
    const std::string d = data_with(dir, c.file, c.bytes);
    const auto r = run("train --data " + d + kTiny + " --epochs 1");
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(contains(r.output, c.file));
    CHECK(contains(r.output, c.expect));
    CHECK_FALSE(contains(r.output, "epoch  train_err%"));  // refused before training
  }
  // A folder where a file is expected, and a missing file.
  std::string d = data_with(dir, "t10k-labels-idx1-ubyte", "x");
  std::filesystem::remove(d + "/t10k-labels-idx1-ubyte");
  std::filesystem::create_directory(d + "/t10k-labels-idx1-ubyte");
  auto r = run("train --data " + d + kTiny);
  CHECK(r.code == 2);
  CHECK(contains(r.output, "not a regular file"));
  std::filesystem::remove(d + "/t10k-labels-idx1-ubyte");
  r = run("train --data " + d + kTiny);
  CHECK(r.code == 2);
  CHECK(contains(r.output, "no such file (hint: run tools/fetch_mnist.sh"));
}

TEST_CASE("--chunk auto: an equal number of chunks per thread, at most 10 samples each, fixed in the configuration") {
  struct Case {
    int batch, threads, chunk;
  };
  // 20 on 2: the default's two chunks of 10; 32 on 2: four of 8 rather than 10, 10, 10, 2;
  // 128 on 2: sixteen of 8 rather than thirteen of 10; 20 on 8: no balanced size, the first fit.
  for (const Case c : {Case{20, 1, 10}, Case{20, 2, 10}, Case{20, 3, 7}, Case{20, 4, 5}, Case{32, 2, 8}, Case{128, 2, 8},
                       Case{20, 8, 3}, Case{7, 2, 4}, Case{20, 64, 1}}) {
    const auto r = run("train --chunk auto --batch " + std::to_string(c.batch) + " --threads " + std::to_string(c.threads) +
                       " --dump-config");
    CAPTURE(c.batch);
    CAPTURE(c.threads);
    REQUIRE(r.code == 0);
    // The resolved size, not "auto", is what the configuration (and so a checkpoint) holds.
    CHECK(contains(r.output, "chunk = " + std::to_string(c.chunk) + "\n"));
  }
}

TEST_CASE("config and checkpoint refusals through the binary: exit 2 with the key or file named") {
  test::TempDir dir;
  test::write_file(dir.file("bad.cfg"), "hidden = 500\nlearning-rate = 0.1\n");
  struct Case {
    std::string args;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"train --config " + dir.file("bad.cfg"), "learning-rate"},
      {"train --epochs 3x", "epochs"},
      {"train --eps -0.5", "eps"},
      {"train --beta 0", "beta"},
      {"train --batch 0", "batch"},
      {"train --n-free 0", "n-free"},
      {"train --hidden '500 -3'", "hidden"},
      {"train --alphas '0.1 0.05 0.01'", "expected 2 learning rates"},
      {"train " + data_arg() + " --train-samples 100 --batch 200", "batch"},
      {"train --threads 0", "threads"},
      {"train --chunk 5x", "size > 0 or auto"},
      {"train --chunk -1", "chunk"},
      {"train " + data_arg() + " --hidden '100000 100000' --alphas '0.1 0.1 0.1'", "GiB"},
      {"train " + data_arg() + kTiny + " --checkpoint /proc/eqprop-test.ck", "cannot create"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto r = run(c.args);
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(contains(r.output, c.expect));
    CHECK_FALSE(contains(r.output, "epoch  train_err%"));
  }
}

