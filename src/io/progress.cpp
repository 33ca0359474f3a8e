#include "eqprop/io/progress.hpp"

#include <cstdio>
#include <ostream>

namespace eqprop {

ProgressLine::ProgressLine(std::ostream& err, bool enabled, bool terminal, std::chrono::milliseconds every)
    : err_(err),
      enabled_(enabled),
      terminal_(terminal),
      every_(every.count() > 0 ? every
                               : std::chrono::milliseconds(terminal ? 250 : 15000)),
      last_(std::chrono::steady_clock::now()) {}

void ProgressLine::update(int epoch, long done, long total, double rate, double error_percent) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < every_) return;
  last_ = now;
  const double eta = rate > 0 ? (total - done) / rate : 0;
  char buf[200];
  std::snprintf(buf, sizeof buf, "epoch %d: %ld/%ld samples (%.1f%%), %.0f samples/s, running error %.2f%%, ETA %.0f s",
                epoch, done, total, total > 0 ? 100.0 * done / total : 0.0, rate, error_percent, eta);
  if (terminal_) {
    err_ << '\r' << buf << "\x1b[K" << std::flush;
    drawn_ = true;
  } else {
    err_ << buf << std::endl;
  }
}

void ProgressLine::clear() {
  if (drawn_) err_ << "\r\x1b[K" << std::flush;
  drawn_ = false;
}

}  // namespace eqprop
