// The progress line: redrawn in place on a terminal, plain lines otherwise, never more often
// than its interval, and nothing when disabled.
#include <doctest/doctest.h>

#include <sstream>
#include <thread>

#include "eqprop/io/progress.hpp"

using namespace std::chrono_literals;

TEST_CASE("on a terminal the line is redrawn in place and cleared") {
  std::ostringstream err;
  eqprop::ProgressLine p(err, true, true, 20ms);
  p.update(3, 100, 1000, 500.0, 12.5);  // too soon after construction: nothing
  CHECK(err.str().empty());
  std::this_thread::sleep_for(30ms);
  p.update(3, 200, 1000, 500.0, 12.5);
  const std::string line = err.str();
  CHECK(line.rfind('\r', 0) == 0);
  CHECK(line.find("epoch 3: 200/1000 samples (20.0%), 500 samples/s, running error 12.50%, ETA 2 s") !=
        std::string::npos);
  CHECK(line.find('\n') == std::string::npos);
  p.clear();
  CHECK(err.str().substr(line.size()) == "\r\x1b[K");
}

TEST_CASE("in a log file each update is a plain line, at most once per interval") {
  std::ostringstream err;
  eqprop::ProgressLine p(err, true, false, 20ms);
  std::this_thread::sleep_for(30ms);
  p.update(1, 10, 20, 5.0, 0.0);
  p.update(1, 11, 20, 5.0, 0.0);  // within the interval: skipped
  CHECK(err.str() == "epoch 1: 10/20 samples (50.0%), 5 samples/s, running error 0.00%, ETA 2 s\n");
  p.clear();  // nothing was drawn in place
  CHECK(err.str().back() == '\n');
}

TEST_CASE("disabled, it prints nothing") {
  std::ostringstream err;
  eqprop::ProgressLine p(err, false, true, 1ms);
  std::this_thread::sleep_for(5ms);
  p.update(1, 1, 2, 1.0, 0.0);
  p.clear();
  CHECK(err.str().empty());
}
