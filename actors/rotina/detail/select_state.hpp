// rotina::detail::select_state: the claim flag of one blocking select.
#pragma once

#include <cstdint>

namespace rotina::detail {

/// The claim flag of one blocking select: -1 while open, else the index of the
/// case that won. Whoever moves it from -1 (a channel completing one of the
/// select's waiters, a timer, or the select itself finding a ready case after
/// it registered) commits the select; every other party must leave the
/// select's waiters alone.
///
/// Uses the GCC/Clang `__atomic` builtins instead of std::atomic: <atomic>
/// alone preprocesses to ~36,000 lines under libstdc++ 12 in C++20 mode, and
/// <rotina/chan.hpp> must stay light (docs/design.md, "The channel core and
/// its seam").
class select_state {
public:
  static constexpr int32_t open = -1;

  bool try_claim(int32_t case_index) noexcept {
    auto expected = open;
    return __atomic_compare_exchange_n(&winner_, &expected, case_index, false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  }

  int32_t winner() const noexcept {
    return __atomic_load_n(&winner_, __ATOMIC_ACQUIRE);
  }

private:
  int32_t winner_ = open;
};

} // namespace rotina::detail
