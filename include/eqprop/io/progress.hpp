// ProgressLine: where an epoch is, on stderr. On a terminal it is redrawn in place a few
// times a second; otherwise (a log file) one line is printed every 15 seconds at most.
#pragma once
#include <chrono>
#include <iosfwd>

namespace eqprop {

class ProgressLine {
 public:
  // every: the least time between two lines; by default 0.25 s on a terminal, 15 s otherwise.
  ProgressLine(std::ostream& err, bool enabled, bool terminal,
               std::chrono::milliseconds every = std::chrono::milliseconds(0));
  // samples done of total in this epoch, samples/s so far, running error in percent.
  void update(int epoch, long done, long total, double rate, double error_percent);
  void clear();  // erase the redrawn line before other output

 private:
  std::ostream& err_;
  bool enabled_, terminal_, drawn_ = false;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace eqprop
