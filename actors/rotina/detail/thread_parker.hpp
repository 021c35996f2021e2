// rotina::detail::thread_parker: how a plain OS thread sleeps in a
// `*_blocking` call.
#pragma once

#include <condition_variable>
#include <mutex>

#include "rotina/detail/parker.hpp"

namespace rotina::detail {

/// A parker for a plain OS thread (main, or any non-goroutine thread), used by
/// the `*_blocking` operations. Lives on that thread's stack.
class thread_parker final : public parker {
public:
  thread_parker() = default;

  void unpark() noexcept override;

  /// Blocks until `unpark` ran.
  void wait() noexcept;

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool woken_ = false;
};

} // namespace rotina::detail
