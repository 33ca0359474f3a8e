// Checkpoints: round trip, exact resume at an epoch end and inside an epoch, model-only
// files, refusal of truncated, corrupted, foreign and newer files, the atomic write under
// an injected failure, the architecture check on resume, and the .npz export.
#include <doctest/doctest.h>

#include <cstdlib>

#include <unistd.h>

#include <fstream>
#include <iterator>

#include "eqprop/app/cli.hpp"
#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/io/npz.hpp"
#include "eqprop/engine/trainer.hpp"
#include "helpers.hpp"

namespace {

struct Fixture {
  eqprop::Splits data = eqprop::load_splits(test::mnist_dir(), 600, 200);
  eqprop::Config cfg = [] {
    eqprop::Config c;
    c.hidden = {30};
    c.train_samples = 600;
    c.valid_samples = 200;
    c.n_free = 8;
    c.n_nudged = 3;
    c.shuffle = true;  // the example order must survive a resume too
    c.max_shift = 1;   // and so must the shifts of the training images
    c.relax = eqprop::RelaxScheme::Alternating;   // and the relaxation: exact free phases,
    c.relax_nudged = eqprop::NudgedRelax::Sync;   // the paper's nudged steps
    c.validate();
    return c;
  }();
};

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Everything of two states that must agree bit for bit (not the wall-clock timings).
void check_same(const eqprop::TrainState& a, const eqprop::TrainState& b) {
  CHECK(a.net.sizes == b.net.sizes);
  CHECK(a.net.W == b.net.W);
  CHECK(a.net.b == b.net.b);
  CHECK(a.rng.state() == b.rng.state());
  CHECK(a.epochs_done == b.epochs_done);
  CHECK(a.in_epoch == b.in_epoch);
  CHECK(a.cursor == b.cursor);
  CHECK(a.order == b.order);
  CHECK(a.train_particles.h == b.train_particles.h);
  CHECK(a.valid_particles.h == b.valid_particles.h);
  REQUIRE(a.curves.size() == b.curves.size());
  for (std::size_t i = 0; i < a.curves.size(); ++i) {
    CHECK(a.curves[i].epoch == b.curves[i].epoch);
    CHECK(a.curves[i].train.errors == b.curves[i].train.errors);
    CHECK(a.curves[i].train.energy == b.curves[i].train.energy);
    CHECK(a.curves[i].train.cost == b.curves[i].train.cost);
    CHECK(a.curves[i].valid.errors == b.curves[i].valid.errors);
    CHECK(a.curves[i].valid.energy == b.curves[i].valid.energy);
    CHECK(a.curves[i].rel_change == b.curves[i].rel_change);
  }
}

std::string checkpoint_error(const std::string& path) {
  try {
    eqprop::load_checkpoint(path);
  } catch (const eqprop::CheckpointError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a checkpoint round trip keeps the whole state") {
  Fixture f;
  test::TempDir dir;
  eqprop::Trainer t(f.cfg, f.data.train, f.data.valid);
  t.train_epoch();
  int seen = 0;
  t.train_pass([&](const eqprop::Trainer&) { return ++seen == 7 ? eqprop::Next::Stop : eqprop::Next::Continue; });
  const std::string path = dir.file("c.ck");
  eqprop::save_checkpoint(path, t.state(), true);
  eqprop::CheckpointInfo info;
  const eqprop::TrainState back = eqprop::load_checkpoint(path, &info);
  CHECK(info.has_particles);
  CHECK(info.format == eqprop::kCheckpointFormat);
  check_same(t.state(), back);
  CHECK(back.in_epoch);
  CHECK(back.cursor == 7 * f.cfg.batch);
  CHECK(back.epoch_start.W == t.state().epoch_start.W);
  CHECK(back.current.train.errors == t.state().current.train.errors);
  CHECK(back.cfg.hidden == f.cfg.hidden);
  CHECK(back.cfg.shuffle);
  CHECK(back.cfg.max_shift == f.cfg.max_shift);
  CHECK(eqprop::format_config(back.cfg) == eqprop::format_config(f.cfg));  // every key, relax and relax-nudged too
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("the in-memory encoding is the file's bytes and decodes to the same state") {
  // encode/decode carry a resumed state to the other MPI ranks.
  Fixture f;
  test::TempDir dir;
  eqprop::Trainer t(f.cfg, f.data.train, f.data.valid);
  t.train_epoch();
  const std::string path = dir.file("c.ck");
  eqprop::save_checkpoint(path, t.state(), true);
  const std::string bytes = eqprop::encode_checkpoint(t.state(), true);
  CHECK(bytes == bytes_of(path));
  check_same(t.state(), eqprop::decode_checkpoint(bytes, "memory"));
  // Without particles: smaller, and decodes as model-only.
  const std::string model = eqprop::encode_checkpoint(t.state(), false);
  CHECK(model.size() < bytes.size());
  CHECK_FALSE(eqprop::decode_checkpoint(model, "memory").has_particles);
  std::string bad = bytes;
  bad[bad.size() / 2] ^= 1;
  CHECK_THROWS_AS(eqprop::decode_checkpoint(bad, "memory"), eqprop::CheckpointError);
  CHECK_THROWS_AS(eqprop::decode_checkpoint(bytes.substr(0, 20), "memory"), eqprop::CheckpointError);
}

TEST_CASE("resume at an epoch end and inside an epoch equals an uninterrupted run") {
  Fixture f;
  test::TempDir dir;
  eqprop::Trainer straight(f.cfg, f.data.train, f.data.valid);
  straight.train_epoch();
  straight.train_epoch();

  SUBCASE("stop after epoch 1") {
    eqprop::Trainer first(f.cfg, f.data.train, f.data.valid);
    first.train_epoch();
    eqprop::save_checkpoint(dir.file("e1.ck"), first.state(), true);
    eqprop::TrainState st = eqprop::load_checkpoint(dir.file("e1.ck"));
    eqprop::Trainer second(std::move(st), f.data.train, f.data.valid);
    second.train_epoch();
    check_same(straight.state(), second.state());
  }
  SUBCASE("stop after 11 minibatches of epoch 2") {
    eqprop::Trainer first(f.cfg, f.data.train, f.data.valid);
    first.train_epoch();
    int n = 0;
    CHECK_FALSE(first.train_pass([&](const eqprop::Trainer&) { return ++n == 11 ? eqprop::Next::Stop : eqprop::Next::Continue; }));
    eqprop::save_checkpoint(dir.file("mid.ck"), first.state(), true);
    eqprop::Trainer second(eqprop::load_checkpoint(dir.file("mid.ck")), f.data.train, f.data.valid);
    CHECK(second.train_pass());
    second.finish_epoch();
    check_same(straight.state(), second.state());
  }
}

TEST_CASE("a model-only checkpoint resumes with particles from zero") {
  Fixture f;
  test::TempDir dir;
  eqprop::Trainer t(f.cfg, f.data.train, f.data.valid);
  t.train_epoch();
  eqprop::save_checkpoint(dir.file("full.ck"), t.state(), true);
  eqprop::save_checkpoint(dir.file("model.ck"), t.state(), false);
  const std::size_t particle_bytes = (600 + 200) * (30 + 10) * sizeof(float);
  CHECK(std::filesystem::file_size(dir.file("full.ck")) - std::filesystem::file_size(dir.file("model.ck")) >= particle_bytes);
  eqprop::CheckpointInfo info;
  eqprop::TrainState st = eqprop::load_checkpoint(dir.file("model.ck"), &info);
  CHECK_FALSE(info.has_particles);
  CHECK(st.net.W == t.state().net.W);
  eqprop::Trainer resumed(std::move(st), f.data.train, f.data.valid);
  for (const auto& layer : resumed.state().train_particles.h)
    for (float v : layer) REQUIRE(v == 0.f);
}

TEST_CASE("truncated, corrupted, foreign and newer checkpoints are refused before decoding") {
  Fixture f;
  test::TempDir dir;
  eqprop::Trainer t(f.cfg, f.data.train, f.data.valid);
  t.train_epoch();
  const std::string good = dir.file("good.ck");
  eqprop::save_checkpoint(good, t.state(), true);
  const std::string bytes = bytes_of(good);
  const std::string bad = dir.file("bad.ck");
  for (std::size_t cut : {std::size_t(0), std::size_t(7), std::size_t(31), std::size_t(32), std::size_t(33),
                          std::size_t(1000), bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(cut);
    test::write_file(bad, bytes.substr(0, cut));
    CHECK(!checkpoint_error(bad).empty());
  }
  test::write_file(bad, bytes + "x");
  CHECK(checkpoint_error(bad).find("payload bytes") != std::string::npos);
  // A flipped byte anywhere: the magic, the length, the checksum or the payload.
  for (std::size_t at : {std::size_t(2), std::size_t(18), std::size_t(25), std::size_t(40), bytes.size() / 3,
                         bytes.size() - 2}) {
    CAPTURE(at);
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    test::write_file(bad, flipped);
    CHECK(!checkpoint_error(bad).empty());
  }
  std::string newer = bytes;
  newer[8] = static_cast<char>(eqprop::kCheckpointFormat + 1);  // a newer format version
  test::write_file(bad, newer);
  CHECK(checkpoint_error(bad).find("format version " + std::to_string(eqprop::kCheckpointFormat + 1)) !=
        std::string::npos);
  test::write_file(bad, "#!/bin/sh\necho this is not a checkpoint, but it is long enough\n");
  CHECK(checkpoint_error(bad).find("not an eqprop checkpoint") != std::string::npos);
  CHECK(checkpoint_error(dir.file("missing.ck")).find("no such file") != std::string::npos);
  CHECK(checkpoint_error(dir.path().string()).find("not a regular file") != std::string::npos);
}

TEST_CASE("a format 1 checkpoint (written before dataset, train-on-all and lr-decay) loads and resumes") {
  // test/data/format1.ck: written by commit d4cdcfe's eqprop with `train --hidden 5 --alphas
  // "0.1 0.05" --train-samples 40 --valid-samples 20 --epochs 1 --test-steps 5 --seed 9`.
  const char* dir = std::getenv("EQPROP_TESTDATA");
  const std::string path = std::string(dir ? dir : "test/data") + "/format1.ck";
  eqprop::CheckpointInfo info;
  eqprop::TrainState st = eqprop::load_checkpoint(path, &info);
  CHECK(info.format == 1);
  CHECK(info.has_particles);
  CHECK(st.cfg.dataset == eqprop::DatasetName::Mnist);
  CHECK_FALSE(st.cfg.train_on_all);
  CHECK(st.cfg.lr_decay == 1.f);
  CHECK(st.cfg.max_shift == 0);  // keys newer than the file take their defaults
  CHECK(st.net.sizes == std::vector<int>{784, 5, 10});
  CHECK(st.epochs_done == 1);
  st.cfg.epochs = 2;
  const eqprop::Splits data = eqprop::load_splits(test::mnist_dir(), 40, 20);
  eqprop::Trainer t(std::move(st), data.train, data.valid);
  const eqprop::EpochStats e = t.train_epoch();
  CHECK(e.epoch == 2);
  CHECK(e.train.count == 40);
  CHECK(eqprop::first_nonfinite_layer(t.network()) == 0);
}

TEST_CASE("a failed write keeps the previous checkpoint and leaves no .tmp behind") {
  Fixture f;
  test::TempDir dir;
  eqprop::Trainer t(f.cfg, f.data.train, f.data.valid);
  t.train_epoch();
  const std::string path = dir.file("run.ck");
  eqprop::save_checkpoint(path, t.state(), true);
  const std::string before = bytes_of(path);
  t.train_epoch();
  // Injected failure: PATH.tmp is a link to /dev/full, where every write fails with ENOSPC.
  REQUIRE(symlink("/dev/full", (path + ".tmp").c_str()) == 0);
  std::string msg;
  try {
    eqprop::save_checkpoint(path, t.state(), true);
  } catch (const eqprop::CheckpointWriteError& e) {
    msg = e.what();
  }
  CAPTURE(msg);
  CHECK(msg.find("previous checkpoint is kept") != std::string::npos);
  CHECK(bytes_of(path) == before);
  CHECK(eqprop::load_checkpoint(path).epochs_done == 1);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  CHECK_FALSE(std::filesystem::is_symlink(path + ".tmp"));
}

TEST_CASE("a checkpoint folder that does not exist is found before training") {
  test::TempDir dir;
  CHECK_THROWS_AS(eqprop::check_checkpoint_writable(dir.file("no/such/folder/x.ck")), eqprop::CheckpointError);
  CHECK_THROWS_AS(eqprop::check_checkpoint_writable(dir.path().string()), eqprop::CheckpointError);
  CHECK_NOTHROW(eqprop::check_checkpoint_writable(dir.file("x.ck")));
  CHECK_FALSE(std::filesystem::exists(dir.file("x.ck.tmp")));
}

TEST_CASE("resuming with another architecture is refused, naming both shapes") {
  Fixture f;
  eqprop::Trainer t(f.cfg, f.data.train, f.data.valid);
  eqprop::TrainState st = t.state();
  st.cfg.hidden = {40};
  st.cfg.alphas = {0.1f, 0.05f};
  std::string msg;
  try {
    eqprop::Trainer r(std::move(st), f.data.train, f.data.valid);
  } catch (const eqprop::ConfigError& e) {
    msg = e.what();
  }
  CHECK(msg.find("784-30-10") != std::string::npos);
  CHECK(msg.find("784-40-10") != std::string::npos);
}

TEST_CASE("the .npz export reads back to the checkpoint's weights") {
  Fixture f;
  test::TempDir dir;
  eqprop::Trainer t(f.cfg, f.data.train, f.data.valid);
  t.train_epoch();
  const auto& net = t.network();
  std::vector<eqprop::NpyArray> arrays;
  arrays.push_back({"W1", {784, 30}, net.W[1]});
  arrays.push_back({"b0", {784}, net.b[0]});
  eqprop::write_npz(dir.file("m.npz"), arrays);
  const auto back = eqprop::read_npz(dir.file("m.npz"));
  REQUIRE(back.size() == 2);
  CHECK(back[0].name == "W1");
  CHECK(back[0].shape == std::vector<std::size_t>{784, 30});
  CHECK(back[0].data == net.W[1]);
  CHECK(back[1].name == "b0");
  CHECK(back[1].shape == std::vector<std::size_t>{784});
  // The .npy header is padded so the data starts on a 64-byte boundary, as numpy writes it.
  const std::string z = bytes_of(dir.file("m.npz"));
  const std::size_t npy = z.find("\x93NUMPY");
  REQUIRE(npy != std::string::npos);
  CHECK((10 + (unsigned char)z[npy + 8] + 256 * (unsigned char)z[npy + 9]) % 64 == 0);
}
