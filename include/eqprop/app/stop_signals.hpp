// StopSignals: while alive, SIGINT and SIGTERM do not kill the process but are recorded,
// so training can finish its minibatch, write a checkpoint and exit 128+signal.
// The recorded signal is the one piece of process-wide mutable state eqprop has: a signal
// handler can reach nothing else.
#pragma once
#include <csignal>

namespace eqprop {

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the previous ones
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  int received() const;  // 0, or the first signal caught

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace eqprop
