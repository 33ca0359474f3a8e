#include "eqprop/engine/claims.hpp"

#include <thread>

namespace eqprop {

void pause_or_yield(int& spins) {
  if (++spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

void Claims::assign(std::vector<int> owners) {
  owners_ = std::move(owners);
  taken_ = std::make_unique<std::atomic<bool>[]>(owners_.size());
  begin();
}

void Claims::begin() {
  for (std::size_t i = 0; i < owners_.size(); ++i) taken_[i].store(false, std::memory_order_relaxed);
}

}  // namespace eqprop
