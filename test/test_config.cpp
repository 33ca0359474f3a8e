// Options and config files: the command line wins over the file, unknown keys and bad
// values are refused by key, and the reference configs load with the paper's values.
#include <doctest/doctest.h>

#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "eqprop/app/cli.hpp"
#include "eqprop/error.hpp"
#include "helpers.hpp"

using eqprop::parse_train_args;

namespace {
std::string config_error(const std::vector<std::string>& args) {
  try {
    parse_train_args(args);
  } catch (const eqprop::ConfigError& e) {
    return e.what();
  }
  return "";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
std::string configs_dir() {
  const char* d = std::getenv("EQPROP_CONFIGS");
  return d ? d : "configs";
}
}  // namespace

TEST_CASE("defaults are net1's") {
  const auto a = parse_train_args({});
  CHECK(a.cfg.layer_sizes() == std::vector<int>{784, 500, 10});
  CHECK(a.cfg.alphas == std::vector<float>{0.1f, 0.05f});
  CHECK(a.cfg.n_free == 20);
  CHECK(a.cfg.n_nudged == 4);
}

TEST_CASE("reference configs hold the paper's networks") {
  const auto n2 = parse_train_args({"--config", configs_dir() + "/net2.cfg"}).cfg;
  CHECK(n2.layer_sizes() == std::vector<int>{784, 500, 500, 10});
  CHECK(n2.n_free == 150);
  CHECK(n2.n_nudged == 6);
  CHECK(n2.beta == 1.0f);
  CHECK(n2.epochs == 60);
  CHECK(n2.alphas == std::vector<float>{0.4f, 0.1f, 0.01f});
  const auto n3 = parse_train_args({"--config", configs_dir() + "/net3.cfg"}).cfg;
  CHECK(n3.layer_sizes() == std::vector<int>{784, 500, 500, 500, 10});
  CHECK(n3.n_free == 500);
  CHECK(n3.alphas == std::vector<float>{0.128f, 0.032f, 0.008f, 0.002f});
  // net3-alt: net3's network, rates, beta and schedule.
  const auto n3a = parse_train_args({"--config", configs_dir() + "/net3-alt.cfg"}).cfg;
  CHECK(n3a.hidden == n3.hidden);
  CHECK(n3a.alphas == n3.alphas);
  CHECK(n3a.beta == n3.beta);
  CHECK(n3a.epochs == n3.epochs);
  CHECK(n3a.relax == eqprop::RelaxScheme::Alternating);
}

TEST_CASE("configs/cifar10.cfg is Laborieux et al.'s CIFAR-10 convnet with the cross-entropy readout; conv-mnist.cfg is valid") {
  auto c = parse_train_args({"--config", configs_dir() + "/cifar10.cfg"}).cfg;
  c.facts.channels = 3;  // CIFAR-10's shape (the loader's facts)
  c.facts.height = c.facts.width = 32;
  c.facts.classes = 10;
  CHECK(c.layer_sizes() == std::vector<int>{3072, 128 * 16 * 16, 256 * 8 * 8, 512 * 4 * 4, 512 * 1 * 1, 10});
  CHECK(c.readout == eqprop::Readout::CrossEntropy);
  CHECK(c.nudging == eqprop::Nudging::Symmetric);
  CHECK(c.alphas == std::vector<float>{0.25f, 0.15f, 0.1f, 0.08f, 0.05f});
  CHECK(c.momentum == 0.9f);
  CHECK(c.weight_decay == 3e-4f);
  CHECK(c.lr_schedule == eqprop::LrSchedule::Cosine);
  CHECK(c.batch == 128);
  CHECK(c.n_free == 250);
  CHECK(c.n_nudged == 25);
  const auto m = parse_train_args({"--config", configs_dir() + "/conv-mnist.cfg"}).cfg;  // validated
  CHECK(m.readout == eqprop::Readout::CrossEntropy);
  CHECK(m.layer_sizes() == std::vector<int>{784, 32 * 12 * 12, 64 * 4 * 4, 10});
}

TEST_CASE("every configs/*.cfg parses, says what it is in a leading comment, and round-trips") {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(configs_dir())) {
    if (entry.path().extension() != ".cfg") continue;
    ++seen;
    const std::string path = entry.path().string();
    CAPTURE(path);
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    CHECK(first.rfind("#", 0) == 0);  // a config names its purpose and source before its keys
    eqprop::Config c;
    REQUIRE_NOTHROW(c = parse_train_args({"--config", path}).cfg);
    const test::TempDir dir;
    test::write_file(dir.file("again.cfg"), eqprop::format_config(c));
    CHECK(eqprop::format_config(parse_train_args({"--config", dir.file("again.cfg")}).cfg) == eqprop::format_config(c));
  }
  CHECK(seen >= 10);  // the directory was found and read
}

TEST_CASE("net1-final-shift is net1-final with shifts of up to one pixel") {
  const auto final_cfg = parse_train_args({"--config", configs_dir() + "/net1-final.cfg"}).cfg;
  auto shifted = parse_train_args({"--config", configs_dir() + "/net1-final-shift.cfg"}).cfg;
  CHECK(final_cfg.max_shift == 0);
  CHECK(shifted.max_shift == 1);
  shifted.max_shift = 0;
  // Every other key the same: compare the two as config files.
  CHECK(eqprop::format_config(shifted) == eqprop::format_config(final_cfg));
}

TEST_CASE("dataset picks its own folder unless --data is given; train-on-all widens the training split") {
  const auto mnist = parse_train_args({}).cfg;
  CHECK(mnist.dataset == eqprop::DatasetName::Mnist);
  CHECK(mnist.data == "data/mnist");
  const auto fashion = parse_train_args({"--dataset", "fashion-mnist"}).cfg;
  CHECK(fashion.dataset == eqprop::DatasetName::FashionMnist);
  CHECK(fashion.data == "/usr/share/datasets/fashion-mnist");
  CHECK(parse_train_args({"--dataset", "fashion-mnist", "--data", "elsewhere"}).cfg.data == "elsewhere");
  // A resumed fashion run keeps its folder; switching back to mnist picks MNIST's.
  CHECK(parse_train_args({}, eqprop::Command::Train, &fashion).cfg.data == "/usr/share/datasets/fashion-mnist");
  CHECK(parse_train_args({"--dataset", "mnist"}, eqprop::Command::Train, &fashion).cfg.data == "data/mnist");
  CHECK(contains(config_error({"--dataset", "cifar"}), "config key 'dataset'"));
  CHECK(parse_train_args({"--train-on-all", "--train-samples", "60000"}).cfg.train_on_all);
  // Split keys against the data's counts: checked once the files are read (validate_data).
  const auto split_error = [](const eqprop::Config& c, int train_available, int valid) {
    try {
      c.validate_data(eqprop::DataFacts{}, train_available, valid);
    } catch (const eqprop::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(contains(split_error(parse_train_args({"--train-samples", "60000"}).cfg, 60000, 10000), "up to 50000"));
  CHECK(split_error(parse_train_args({"--train-samples", "50000"}).cfg, 60000, 10000).empty());
  CHECK(contains(split_error(parse_train_args({"--valid-samples", "10001"}).cfg, 60000, 10000), "valid-samples"));
  CHECK(contains(split_error(parse_train_args({"--train-samples", "10", "--batch", "20", "--chunk", "5"}).cfg, 60000, 10000),
                 "batch"));
  eqprop::DataFacts tiny;
  tiny.height = tiny.width = 4;
  CHECK_THROWS_AS(parse_train_args({"--max-shift", "5"}).cfg.validate_data(tiny, 100, 0), eqprop::ConfigError);
  CHECK_NOTHROW(parse_train_args({"--max-shift", "3"}).cfg.validate_data(tiny, 100, 0));
  CHECK(contains(config_error({"--dataset", "npz"}), "config key 'data'"));  // npz has no default file
  CHECK(contains(config_error({"--label", "coarse"}), "config key 'label'"));  // cifar100 only
  CHECK(contains(config_error({"--normalize", "zca"}), "config key 'normalize'"));
  CHECK(contains(config_error({"--valid-count", "-2"}), "config key 'valid-count'"));
  CHECK(contains(config_error({"--classes", "-1"}), "config key 'classes'"));
  CHECK(contains(config_error({"--train-on-all", "--valid-samples", "5"}), "no validation split"));
}

TEST_CASE("the command line overrides the config file, in either order") {
  test::TempDir dir;
  test::write_file(dir.file("c.cfg"), "# comment\nepochs = 7\nbeta = 0.25\nhidden = 30 20\nalphas = 0.3 0.2 0.1\n");
  for (bool config_first : {true, false}) {
    std::vector<std::string> args{"--epochs", "3"};
    if (config_first) args.insert(args.begin(), {"--config", dir.file("c.cfg")});
    else args.insert(args.end(), {"--config", dir.file("c.cfg")});
    const auto c = parse_train_args(args).cfg;
    CHECK(c.epochs == 3);
    CHECK(c.beta == 0.25f);
    CHECK(c.hidden == std::vector<int>{30, 20});
  }
}

TEST_CASE("include: a file's keys win over the file it includes, the command line over both") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("base"));
  test::write_file(dir.file("base/net.cfg"), "epochs = 7\nbeta = 0.25\nhidden = 30\nn-free = 11\n");
  test::write_file(dir.file("base/other.cfg"), "epochs = 9\nn-nudged = 3\n");
  // Paths are relative to the including file's folder, not the working one; a comment and
  // blanks around the name are allowed as for any key.
  test::write_file(dir.file("top.cfg"), "include = base/net.cfg  # the network\n  include=base/other.cfg\nbeta = 0.5\n");
  const auto c = parse_train_args({"--config", dir.file("top.cfg"), "--n-free", "4"}).cfg;
  CHECK(c.beta == 0.5f);                          // the file over its include
  CHECK(c.hidden == std::vector<int>{30});        // from the include
  CHECK(c.epochs == 7);                           // the first include over the second
  CHECK(c.n_nudged == 3);                         // from the second include
  CHECK(c.n_free == 4);                           // the command line over all

  // An include chain reads as the flattened file.
  test::write_file(dir.file("flat.cfg"), "epochs = 7\nbeta = 0.5\nhidden = 30\nn-free = 11\nn-nudged = 3\n");
  CHECK(eqprop::format_config(parse_train_args({"--config", dir.file("top.cfg")}).cfg) ==
        eqprop::format_config(parse_train_args({"--config", dir.file("flat.cfg")}).cfg));

  // Refused, naming the file: a missing include, an empty one, a cycle, an unknown key inside
  // an include, a key named like include but not it.
  test::write_file(dir.file("missing.cfg"), "include = nowhere.cfg\n");
  CHECK(contains(config_error({"--config", dir.file("missing.cfg")}), "nowhere.cfg': no such file"));
  test::write_file(dir.file("empty.cfg"), "include =\n");
  CHECK(contains(config_error({"--config", dir.file("empty.cfg")}), "'include' names no file"));
  test::write_file(dir.file("a.cfg"), "include = b.cfg\n");
  test::write_file(dir.file("b.cfg"), "epochs = 2\ninclude = ./a.cfg\n");
  CHECK(contains(config_error({"--config", dir.file("a.cfg")}), "includes itself"));
  test::write_file(dir.file("self.cfg"), "include = self.cfg\n");
  CHECK(contains(config_error({"--config", dir.file("self.cfg")}), "includes itself"));
  test::write_file(dir.file("bad.cfg"), "learning_rate = 0.1\n");
  test::write_file(dir.file("uses-bad.cfg"), "include = bad.cfg\n");
  CHECK(contains(config_error({"--config", dir.file("uses-bad.cfg")}), "bad.cfg'"));
  test::write_file(dir.file("near.cfg"), "includes = net.cfg\n");
  CHECK(contains(config_error({"--config", dir.file("near.cfg")}), "includes"));
  // A chain deeper than the limit is refused rather than followed.
  for (int i = 0; i < 12; ++i)
    test::write_file(dir.file("d" + std::to_string(i) + ".cfg"), "include = d" + std::to_string(i + 1) + ".cfg\n");
  test::write_file(dir.file("d12.cfg"), "epochs = 2\n");
  CHECK(contains(config_error({"--config", dir.file("d0.cfg")}), "nested more than"));
  // include means nothing on the command line.
  CHECK_FALSE(config_error({"--include", dir.file("flat.cfg")}).empty());
}

TEST_CASE("derived reference configs are their base with the keys they name") {
  const auto pad = parse_train_args({"--config", configs_dir() + "/conv-fashion-pad.cfg"}).cfg;
  auto k3 = parse_train_args({"--config", configs_dir() + "/conv-fashion-pad-k3.cfg"}).cfg;
  CHECK(k3.layers != pad.layers);
  k3.layers = pad.layers;
  CHECK(eqprop::format_config(k3) == eqprop::format_config(pad));
  const auto net2 = parse_train_args({"--config", configs_dir() + "/net2.cfg"}).cfg;
  auto alt = parse_train_args({"--config", configs_dir() + "/net2-alt.cfg"}).cfg;
  CHECK(alt.relax == eqprop::RelaxScheme::Alternating);
  CHECK(alt.n_free == 30);
  alt.relax = net2.relax;
  alt.relax_nudged = net2.relax_nudged;
  alt.n_free = net2.n_free;
  alt.tol = net2.tol;
  alt.nudging = net2.nudging;
  CHECK(eqprop::format_config(alt) == eqprop::format_config(net2));
}

TEST_CASE("--dump-config output reads back to the same configuration") {
  test::TempDir dir;
  const auto a = parse_train_args({"--hidden", "40 30", "--alphas", "0.5 0.25 0.125", "--nudging", "symmetric",
                                   "--relax", "alternating", "--relax-nudged", "sync", "--momentum", "0.9",
                                   "--lr-schedule", "cosine", "--seed", "123456789012", "--shuffle", "--dump-config"});
  CHECK(a.dump_config);
  test::write_file(dir.file("d.cfg"), eqprop::format_config(a.cfg));
  const auto b = parse_train_args({"--config", dir.file("d.cfg")});
  CHECK(eqprop::format_config(b.cfg) == eqprop::format_config(a.cfg));
  CHECK(b.cfg.seed == 123456789012ULL);
  CHECK(b.cfg.nudging == eqprop::Nudging::Symmetric);
  CHECK(b.cfg.relax_nudged == eqprop::NudgedRelax::Sync);
  CHECK(b.cfg.momentum == 0.9f);
  CHECK(b.cfg.lr_schedule == eqprop::LrSchedule::Cosine);
  CHECK(b.cfg.shuffle);
  CHECK_FALSE(parse_train_args({"--shuffle=false"}).cfg.shuffle);
  CHECK_FALSE(parse_train_args({"--progress=false"}).cfg.progress);
}

TEST_CASE("the rate schedules: lr-decay's powers, and the cosine from alphas down toward 0 over `epochs`") {
  eqprop::Config c;
  c.lr_decay = 0.5f;
  CHECK(c.rate_scale(0) == 1.0);
  CHECK(c.rate_scale(3) == 0.125);
  c.lr_decay = 1.f;
  c.lr_schedule = eqprop::LrSchedule::Cosine;
  c.epochs = 4;
  CHECK(c.rate_scale(0) == 1.0);
  CHECK(c.rate_scale(2) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(c.rate_scale(3) == doctest::Approx((1 - std::sqrt(0.5)) / 2).epsilon(1e-15));
  CHECK(c.rate_scale(3) > 0.0);  // the last epoch still trains
}

TEST_CASE("bad options and values are refused, naming the key") {
  test::TempDir dir;
  test::write_file(dir.file("unknown.cfg"), "epochs = 2\nlearning_rate = 0.1\n");
  test::write_file(dir.file("junk.cfg"), "epochs = 2x\n");
  test::write_file(dir.file("placeholder.cfg"), "epochs = %canonical_option%\n");
  struct Case {
    std::vector<std::string> args;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {{"--no-such-option", "1"}, "no-such-option"},
      {{"--config", dir.file("unknown.cfg")}, "learning_rate"},
      {{"--config", dir.file("junk.cfg")}, "epochs"},
      {{"--config", dir.file("missing.cfg")}, "missing.cfg"},
      {{"--epochs", "abc"}, "epochs"},
      {{"--epochs", "-1"}, "epochs"},
      {{"--eps", "0"}, "eps"},
      {{"--eps", "1.5"}, "eps"},
      {{"--beta", "-0.5"}, "beta"},
      {{"--beta", "nan"}, "beta"},
      {{"--batch", "0"}, "batch"},
      {{"--n-free", "0"}, "n-free"},
      {{"--n-nudged", "-3"}, "n-nudged"},
      {{"--hidden", "500 0"}, "hidden"},
      {{"--hidden", "500 abc"}, "hidden"},
      {{"--hidden", ""}, "hidden"},
      {{"--alphas", "0.1"}, "alphas"},
      {{"--alphas", "0.1 0.05 0.01"}, "alphas"},
      {{"--threads", "-1"}, "threads"},
      {{"--threads", "0"}, "threads"},
      {{"--chunk", "0"}, "chunk"},
      {{"--seed", "-4"}, "seed"},
      {{"--nudging", "both"}, "nudging"},
      {{"--config", "/dev/zero"}, "not a regular file"},  // would never end
      {{"--config", dir.path().string()}, "not a regular file"},  // a folder reads as empty
      {{"--data", "my#data"}, "data"},  // '#' would start a comment in a dumped config
      {{"--metrics", " m.jsonl"}, "metrics"},
      {{"--beta-sign", "negative"}, "beta-sign"},
      {{"--relax", "async"}, "relax"},
      {{"--relax-nudged", "alternating"}, "relax-nudged"},
      {{"--max-shift", "9"}, "max-shift"},
      {{"--momentum", "1"}, "momentum"},
      {{"--momentum", "-0.1"}, "momentum"},
      {{"--lr-schedule", "step"}, "lr-schedule"},
      {{"--lr-schedule", "cosine", "--lr-decay", "0.9"}, "lr-decay"},
      {{"--max-shift", "-1"}, "max-shift"},
      {{"stray"}, "stray"},
      // Boost.Program_options loops forever formatting an error for such text (fuzz_config).
      {{"--epochs", "%value%"}, "%value%"},
      {{"--progress", "%valUe%"}, "%valUe%"},  // lowercased by Boost's boolean parser into %value%
      {{"--config", dir.file("placeholder.cfg")}, "%canonical_option%"},
  };
  for (const auto& c : cases) {
    std::string joined;
    for (const auto& w : c.args) joined += w + " ";
    CAPTURE(joined);
    const std::string msg = config_error(c.args);
    CAPTURE(msg);
    CHECK(contains(msg, c.expect));
  }
}

TEST_CASE("memory estimate: ImageNet 32x32's size fits in 24 GiB as uint8, not as float32") {
  // 1,281,167 training images (50,000 of them the validation split) and 50,000 test images of
  // 3x32x32, 1,000 classes, one hidden layer of 500: docs/data.md quotes these figures.
  eqprop::Config cfg;
  cfg.facts.channels = 3;
  cfg.facts.height = cfg.facts.width = 32;
  cfg.facts.classes = 1000;
  const double files = 1281167 + 50000, train = 1281167 - 50000, valid = 50000, particles = train + valid;
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const auto bytes = eqprop::estimate_memory(cfg, files, train, valid, 1);
  const auto floats = eqprop::estimate_memory(cfg, files, train, valid, 4);
  MESSAGE("uint8: " << eqprop::describe(bytes) << "; float32: " << eqprop::describe(floats));
  CHECK(bytes.total() < 24 * gib);
  CHECK(floats.total() > 24 * gib);
  // The parts: the images as read and the validation copy, with their labels, the particles
  // of 1,500 units twice, the weights three times.
  CHECK(bytes.data == doctest::Approx((files + valid) * (3072 + 4)));
  CHECK(bytes.particles == doctest::Approx(2 * particles * 1500 * 4));
  CHECK(bytes.weights == doctest::Approx(3 * (3072.0 * 500 + 500 + 500.0 * 1000 + 1000) * 4));
  // Model-only checkpoints keep one copy of the particles.
  cfg.checkpoint_particles = false;
  CHECK(eqprop::estimate_memory(cfg, files, train, valid, 1).particles == doctest::Approx(particles * 1500 * 4));
  // Free phases from zero keep none.
  cfg.persistent_particles = false;
  CHECK(eqprop::estimate_memory(cfg, files, train, valid, 1).particles == 0.0);
}
