#include "rotina/select.hpp"

#include <chrono>
#include <thread>

namespace rotina::detail {

uint32_t fast_random(uint32_t n) noexcept {
  // xorshift64*, seeded per thread from the clock and the thread's identity.
  thread_local uint64_t state = [] {
    auto seed = static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
    seed ^= std::hash<std::thread::id>{}(std::this_thread::get_id())
            * 0x9E3779B97F4A7C15ull;
    return seed != 0 ? seed : 0x2545F4914F6CDD1Dull;
  }();
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  auto x = state * 0x2545F4914F6CDD1Dull;
  // Lemire's multiply-shift maps 32 random bits onto [0, n) without division.
  return static_cast<uint32_t>(((x >> 32) * static_cast<uint64_t>(n)) >> 32);
}

} // namespace rotina::detail
