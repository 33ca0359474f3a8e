// The eqprop binary's runs that stop and go on: SIGINT and SIGTERM with a checkpoint and the
// resume to the same result, --max-minibatches, bad checkpoints, divergence after a good epoch,
// a checkpoint write that fails.
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
#include <map>
#include <sstream>
#include <thread>

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

namespace {

// Starts the binary in the background with its output in a file; returns its pid.
pid_t spawn(const std::string& args, const std::string& out_file) {
  const char* bin = std::getenv("EQPROP_BIN");
  REQUIRE(bin != nullptr);
  const std::string cmd = "exec " + std::string(bin) + " " + args + " > " + out_file + " 2>&1";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The metrics lines without their wall-clock figures, which no two runs share.
std::vector<nlohmann::json> curves(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    for (const char* k : {"seconds", "samples_per_second", "threads"}) j.erase(k);
    out.push_back(j);
  }
  return out;
}


const char* kLong = " --train-samples 1000 --valid-samples 200 --hidden 200 --test-steps 5 --epochs 40 --progress=false";

}  // namespace

TEST_CASE("SIGINT: the run finishes its minibatch, checkpoints, exits 130, and resumes to the same result") {
  test::TempDir dir;
  const std::string common = "train " + data_arg() + kLong;
  REQUIRE(run(common + " --checkpoint " + dir.file("a.ck") + " --metrics " + dir.file("a.jsonl")).code == 0);

  const std::string b = dir.file("b.ck");
  const pid_t pid = spawn(common + " --checkpoint " + b + " --metrics " + dir.file("b.jsonl"), dir.file("b.log"));
  // Wait for the first epoch's checkpoint, then interrupt somewhere in the run.
  for (int i = 0; i < 600 && !std::filesystem::exists(b); ++i) usleep(10000);
  usleep(150000);
  kill(pid, SIGINT);
  const int code = wait_exit(pid);
  const std::string log = file_bytes(dir.file("b.log"));
  CAPTURE(log);
  REQUIRE_MESSAGE(code == 130, "the run ended before the signal; give the test more work");
  CHECK(contains(log, "stopped by SIGINT"));
  CHECK(contains(log, "eqprop train --resume " + b));
  const auto resumed = run("train --resume " + b);
  CAPTURE(resumed.output);
  REQUIRE(resumed.code == 0);
  CHECK(contains(resumed.output, "particles restored"));
  // Same curves (every epoch once, in order) and bit-identical weights.
  CHECK(curves(dir.file("a.jsonl")) == curves(dir.file("b.jsonl")));
  REQUIRE(run("export " + dir.file("a.ck") + " --npz " + dir.file("a.npz")).code == 0);
  REQUIRE(run("export " + b + " --npz " + dir.file("b.npz")).code == 0);
  CHECK(file_bytes(dir.file("a.npz")) == file_bytes(dir.file("b.npz")));
}

// `common` stopped after 13 minibatches (b.ck) and resumed ends with the weights and
// particles of the uninterrupted run whose checkpoint is a.ck.
void check_resumed_equals(const std::string& common, const test::TempDir& dir) {
  REQUIRE(run(common + " --checkpoint " + dir.file("b.ck") + " --max-minibatches 13").code == 0);
  const auto b = run("train --resume " + dir.file("b.ck"));
  CAPTURE(b.output);
  REQUIRE(b.code == 0);
  REQUIRE(run("export " + dir.file("a.ck") + " --npz " + dir.file("a.npz") + " --particles").code == 0);
  REQUIRE(run("export " + dir.file("b.ck") + " --npz " + dir.file("b.npz") + " --particles").code == 0);
  CHECK(file_bytes(dir.file("a.npz")) == file_bytes(dir.file("b.npz")));
}

TEST_CASE("alternating relaxation with a tolerance: stopped and resumed mid-epoch equals an uninterrupted run") {
  test::TempDir dir;
  const std::string common = "train " + data_arg() + kTiny + " --epochs 2 --relax alternating --tol 1e-3 --progress=false";
  const auto a = run(common + " --checkpoint " + dir.file("a.ck") + " --metrics " + dir.file("a.jsonl"));
  CAPTURE(a.output);
  REQUIRE(a.code == 0);
  CHECK(contains(a.output, "steps"));  // the mean sweeps per phase
  CHECK(contains(file_bytes(dir.file("a.jsonl")), "\"free_steps\":"));
  check_resumed_equals(common, dir);
  CHECK(contains(run("info " + dir.file("b.ck")).output, "relax = alternating"));
}

TEST_CASE("without persistent particles a checkpoint is the model alone and resumes mid-epoch to the same result") {
  test::TempDir dir;
  const std::string common = "train " + data_arg() + kTiny + " --epochs 2 --persistent-particles=false --progress=false";
  const auto a = run(common + " --checkpoint " + dir.file("a.ck"));
  CAPTURE(a.output);
  REQUIRE(a.code == 0);
  REQUIRE(run(common + " --checkpoint " + dir.file("b.ck") + " --max-minibatches 13").code == 0);
  CHECK_FALSE(contains(run("info " + dir.file("b.ck")).output, "train particles"));
  const auto b = run("train --resume " + dir.file("b.ck"));
  CAPTURE(b.output);
  REQUIRE(b.code == 0);
  REQUIRE(run("export " + dir.file("a.ck") + " --npz " + dir.file("a.npz")).code == 0);
  REQUIRE(run("export " + dir.file("b.ck") + " --npz " + dir.file("b.npz")).code == 0);
  CHECK(file_bytes(dir.file("a.npz")) == file_bytes(dir.file("b.npz")));
  // The same run with particles (the default) does store them.
  REQUIRE(run("train " + data_arg() + kTiny + " --epochs 1 --progress=false --checkpoint " + dir.file("c.ck")).code == 0);
  CHECK(contains(run("info " + dir.file("c.ck")).output, "train particles"));
}

TEST_CASE("a conv net with momentum and a cross-entropy readout: stopped and resumed mid-epoch equals an uninterrupted run; info and export show conv shapes") {
  test::TempDir dir;
  const std::string common = "train " + data_arg() +
                             " --train-samples 200 --valid-samples 60 --test-steps 5 --n-free 8 --n-nudged 3"
                             " --layers conv:3:5:pool2 --alphas \"0.1 0.05\" --epochs 2 --progress=false"
                             " --momentum 0.9 --weight-decay 1e-3 --lr-schedule cosine --readout cross-entropy";
  const auto a = run(common + " --checkpoint " + dir.file("a.ck"));
  CAPTURE(a.output);
  REQUIRE(a.code == 0);
  check_resumed_equals(common, dir);
  const auto info = run("info " + dir.file("b.ck"));
  CHECK(contains(info.output, "layers = conv:3:5:pool2"));
  CHECK(contains(info.output, "readout = cross-entropy"));
  CHECK(contains(info.output, "momentum = 0.9"));
  CHECK(contains(info.output, "W1  3 x 1 x 5 x 5"));
  CHECK(contains(info.output, "W2  432 x 10"));
  CHECK(contains(file_bytes(dir.file("a.npz")), "(3, 1, 5, 5)"));  // the npy header of W1
  // An entry that does not fit the data is refused before training, naming it.
  const auto bad = run("train " + data_arg() + " --layers conv:3:29 --alphas \"0.1 0.05\" --epochs 1");
  CHECK(bad.code == 2);
  CHECK(contains(bad.output, "conv:3:29"));
}

TEST_CASE("--max-minibatches stops with a checkpoint; info, eval and export read it") {
  test::TempDir dir;
  const std::string ck = dir.file("c.ck");
  const auto r = run("train " + data_arg() + kTiny + " --epochs 3 --max-minibatches 13 --checkpoint " + ck);
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(contains(r.output, "stopped by --max-minibatches after 13 minibatches"));
  const auto info = run("info " + ck);
  CAPTURE(info.output);
  CHECK(info.code == 0);
  CHECK(contains(info.output, "format version " + std::to_string(eqprop::kCheckpointFormat)));
  CHECK(contains(info.output, "1 of 3 epochs done; inside epoch 2 at sample 60 of 200"));
  CHECK(contains(info.output, "W1  784 x 20"));
  CHECK(contains(info.output, "train particles  200 x (20, 10)"));
  const auto ev = run("eval --checkpoint " + ck + " --split valid");
  CAPTURE(ev.output);
  CHECK(ev.code == 0);
  CHECK(contains(ev.output, "valid error"));
  CHECK(contains(ev.output, "from the saved particles"));
  const auto et = run("eval --checkpoint " + ck + " --split test --steps 7");
  CHECK(contains(et.output, "free phase of 7 steps from zero states"));
  const auto ex = run("export " + ck + " --npz " + dir.file("m.npz"));
  CHECK(ex.code == 0);
  const auto arrays = eqprop::read_npz(dir.file("m.npz"));
  REQUIRE(arrays.size() == 5);
  CHECK(arrays[0].name == "W1");
  CHECK(arrays[0].shape == std::vector<std::size_t>{784, 20});
  CHECK(arrays[4].name == "b2");
}

TEST_CASE("bad checkpoints and commands exit 2 naming the problem") {
  test::TempDir dir;
  test::write_file(dir.file("junk.ck"), "not a checkpoint at all, just some text here...");
  const std::string ck = dir.file("c.ck");
  REQUIRE(run("train " + data_arg() + kTiny + " --epochs 1 --checkpoint " + ck).code == 0);
  struct Case {
    std::string args;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"train --resume " + dir.file("junk.ck"), "not an eqprop checkpoint"},
      {"train --resume " + dir.file("none.ck"), "no such file"},
      {"train --resume " + ck + " --hidden 30 --data " + dir.file("no-data"),  // refused before the data is read
       "784-20-10 network, the configuration asks for 784-30-10"},
      {"train " + data_arg() + kTiny + " --checkpoint " + dir.file("no/dir/c.ck"), "does not exist"},
      {"eval --checkpoint " + ck + " --split dev", "train, valid or test"},
      {"eval --split test", "--checkpoint"},
      {"info", "expected a checkpoint file"},
      {"info " + dir.file("junk.ck"), "not an eqprop checkpoint"},
      {"export " + ck, "--npz"},
      {"info " + ck + " extra", "unexpected argument 'extra'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto r = run(c.args);
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(contains(r.output, c.expect));
  }
  for (const char* cmd : {"train", "eval", "info", "export", "bench"}) {
    CAPTURE(cmd);
    const auto h = run(std::string(cmd) + " --help");
    CHECK(h.code == 0);
    // Each command's help starts with its own usage line, and only that one.
    CHECK(h.output.rfind("usage: eqprop " + std::string(cmd), 0) == 0);
    CHECK(h.output.find("usage:", 1) == std::string::npos);
  }
}

TEST_CASE("divergence after a good epoch keeps the last good checkpoint") {
  test::TempDir dir;
  const std::string ck = dir.file("c.ck");
  REQUIRE(run("train " + data_arg() + kTiny + " --epochs 1 --checkpoint " + ck).code == 0);
  const std::string good = file_bytes(ck);
  auto r = run("train --resume " + ck + " --epochs 3 --alphas '1e38 1e38'");
  CAPTURE(r.output);
  CHECK(r.code == 1);
  CHECK(contains(r.output, "diverged in epoch 2"));
  CHECK(contains(r.output, "layer"));
  CHECK(file_bytes(ck) == good);
  CHECK(run("info " + ck).code == 0);
  // Checkpointing every minibatch: whatever was written last holds finite parameters only.
  r = run("train --resume " + ck + " --epochs 3 --checkpoint-every 1 --alphas '1e38 1e38'");
  CHECK(r.code == 1);
  REQUIRE(run("export " + ck + " --npz " + dir.file("m.npz")).code == 0);
  for (const auto& a : eqprop::read_npz(dir.file("m.npz")))
    for (float v : a.data) REQUIRE(std::isfinite(v));
}

TEST_CASE("a checkpoint write that fails (device full) keeps the previous checkpoint, exit 1") {
  test::TempDir dir;
  const std::string ck = dir.file("c.ck");
  const pid_t pid = spawn("train " + data_arg() + kLong + " --checkpoint " + ck, dir.file("log"));
  for (int i = 0; i < 5000 && !std::filesystem::exists(ck); ++i) usleep(1000);
  // From now on every write of the next checkpoint lands on a full device.
  REQUIRE(symlink("/dev/full", (ck + ".tmp").c_str()) == 0);
  const int code = wait_exit(pid);
  const std::string log = file_bytes(dir.file("log"));
  CAPTURE(log);
  CHECK(code == 1);
  CHECK(contains(log, "No space left on device; the previous checkpoint is kept"));
  const auto info = run("info " + ck);
  CHECK(info.code == 0);
  CHECK(contains(info.output, "1 of 40 epochs done"));
  CHECK_FALSE(std::filesystem::exists(ck + ".tmp"));
}

TEST_CASE("SIGTERM: the run checkpoints and exits 143") {
  test::TempDir dir;
  const std::string ck = dir.file("t.ck");
  const pid_t pid = spawn("train " + data_arg() + kLong + " --checkpoint " + ck, dir.file("log"));
  for (int i = 0; i < 600 && !std::filesystem::exists(ck); ++i) usleep(10000);
  kill(pid, SIGTERM);
  const int code = wait_exit(pid);
  const std::string log = file_bytes(dir.file("log"));
  CAPTURE(log);
  CHECK(code == 143);
  CHECK(contains(log, "stopped by SIGTERM"));
  CHECK(run("info " + ck).code == 0);
}

TEST_CASE("SIGTERM in the test evaluation: stops between slices, exits 143; the resume runs only the test") {
  test::TempDir dir;
  const std::string ck = dir.file("t.ck");
  // One short epoch, then a test evaluation of 10,000 images at 3,000 steps (seconds of work
  // on one thread, in slices of 250 images).
  const pid_t pid = spawn("train " + data_arg() +
                              " --train-samples 200 --valid-samples 100 --hidden 200 --epochs 1 --test-steps 3000"
                              " --threads 1 --progress=false --checkpoint " + ck,
                          dir.file("log"));
  for (int i = 0; i < 600 && !std::filesystem::exists(ck); ++i) usleep(10000);
  usleep(200000);
  kill(pid, SIGTERM);
  const int code = wait_exit(pid);
  const std::string log = file_bytes(dir.file("log"));
  CAPTURE(log);
  CHECK(code == 143);
  REQUIRE_MESSAGE(!contains(log, "test error"), "the test evaluation ended before the signal; give it more work");
  CHECK(contains(log, "stopped by SIGTERM in the test evaluation, after all 1 epochs"));
  CHECK(contains(log, "eqprop train --resume " + ck));
  const auto resumed = run("train --resume " + ck + " --test-steps 5");
  CAPTURE(resumed.output);
  CHECK(resumed.code == 0);
  CHECK(contains(resumed.output, "test error"));
  CHECK_FALSE(contains(resumed.output, "\n    1 "));  // no epoch trained again
}

TEST_CASE("bench prints its measures, the serial share a part of the training time") {
  const auto r = run("bench " + data_arg() + " --train-samples 400 --valid-samples 100 --threads 2");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  std::map<std::string, double> v;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key;
    double value = 0;
    if (words >> key >> value) v[key] = value;
  }
  for (const char* k : {"train_samples_per_second", "train_relax_share", "train_update_share", "train_serial_share",
                        "eval_samples_per_second", "sgemm_gflops_one_thread"}) {
    CAPTURE(k);
    REQUIRE(v.count(k) == 1);
    CHECK(v[k] > 0);
  }
  CHECK(v["train_samples"] == 400);
  CHECK(v["threads"] == 2);
  // The two-thread bench also times a cache line's trip between two CPUs (0 with only one).
  REQUIRE(v.count("core_round_trip_ns") == 1);
  CHECK(v["core_round_trip_ns"] >= 0);
  // Timed only when the process may run on two CPUs (a `taskset -c 0` mask leaves it 0).
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) >= 2)
    CHECK(v["core_round_trip_ns"] > 0);
  else
    CHECK(v["core_round_trip_ns"] == 0);
  // The two timed parts cover the minibatch, and the serial work lies inside them.
  CHECK(v["train_relax_share"] + v["train_update_share"] <= 1.0 + 1e-9);
  CHECK(v["train_relax_share"] + v["train_update_share"] > 0.9);
  CHECK(v["train_serial_share"] < v["train_relax_share"] + v["train_update_share"]);
  // Each region's task time: no thread is busy longer than the region lasts, the busiest thread
  // holds a share of the total, and two threads can hold at most twice the region.
  for (const std::string region : {"train_relax", "train_update"}) {
    CAPTURE(region);
    const double wall = v[region + "_region_us"], busy = v[region + "_busy_us"], busiest = v[region + "_busiest_us"];
    REQUIRE(v.count(region + "_busiest_us") == 1);
    CHECK(busiest > 0);
    CHECK(busiest <= busy);
    CHECK(busiest <= wall);
    CHECK(busy <= 2 * wall);
    CHECK(busy >= busiest);
  }
}
