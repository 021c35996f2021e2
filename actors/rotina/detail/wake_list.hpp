// rotina::detail::wake_list: the parkers to wake once a lock is released.
#pragma once

#include <cstddef>
#include <vector>

#include "rotina/detail/parker.hpp"
#include "rotina/detail/waiter.hpp"

namespace rotina::detail {

/// The parkers to wake once the channel lock is released. Copies the parker
/// pointers out of the waiters: once the lock is gone, a completed waiter's
/// memory may be freed (its goroutine can be killed) before it is woken.
class wake_list {
public:
  wake_list() = default;
  wake_list(const wake_list&) = delete;
  wake_list& operator=(const wake_list&) = delete;

  ~wake_list() {
    wake_all();
  }

  /// Takes `w`'s parker; call under the lock that completed `w`.
  void add(waiter* w) {
    auto p = w->who;
    p->retain();
    if (size_ < inline_capacity)
      inline_[size_++] = p;
    else
      more_.push_back(p);
  }

  /// Wakes everything collected. Must run without any channel lock held.
  void wake_all() noexcept {
    for (size_t i = 0; i < size_; ++i)
      inline_[i]->unpark();
    size_ = 0;
    for (auto p : more_)
      p->unpark();
    more_.clear();
  }

private:
  static constexpr size_t inline_capacity = 2;
  parker* inline_[inline_capacity];
  size_t size_ = 0;
  std::vector<parker*> more_;
};

} // namespace rotina::detail
