// The eqprop binary as a user meets it: exit codes (0 ok, 2 bad input, 1 other failure),
// one-line messages that name the problem, --help, and the metrics file of a short run.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "helpers.hpp"

namespace {

struct Result {
  int code;
  std::string output;  // stdout and stderr together
};

Result run(const std::string& args) {
  const char* bin = std::getenv("EQPROP_BIN");
  REQUIRE_MESSAGE(bin != nullptr, "EQPROP_BIN is not set (run through meson test)");
  const std::string cmd = std::string(bin) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string data_arg() { return "--data " + test::mnist_dir(); }
const char* kTiny = " --train-samples 200 --valid-samples 100 --hidden 20 --test-steps 5";

}  // namespace

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
