// Shared by the double-destroy tests of test/gcc12.
#pragma once

#include <atomic>
#include <string>

#include "rotina/runtime.hpp"

namespace rotina::gcc12_test {

/// Objects alive now: every constructor adds one, the destructor takes it.
inline std::atomic<int> live{0};

struct tracked {
  tracked() noexcept {
    ++live;
  }
  tracked(const tracked&) noexcept {
    ++live;
  }
  tracked(tracked&&) noexcept {
    ++live;
  }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() {
    --live;
  }
};

/// An aggregate with non-trivial members: what g++ 12 destroys twice when it
/// is a temporary inside a co_await expression.
struct message {
  tracked t;
  std::string text;
};

/// Longer than the small-string buffer, so it lives on the heap.
inline std::string long_text(int i) {
  return "a text long enough to be on the heap, number " + std::to_string(i);
}

inline options opts() {
  options o;
  o.overrides.push_back("scheduler.max-threads=2");
  o.overrides.push_back("rotina.shutdown=\"cancel\"");
  return o;
}

} // namespace rotina::gcc12_test
