// rotina::detail::parker: something that sleeps until an operation completes.
// Header-light on purpose (no standard header): <rotina/chan.hpp> includes it.
#pragma once

namespace rotina::detail {

/// Something that sleeps until an operation completes: a goroutine (woken by
/// one message to its actor), an OS thread (woken through a semaphore), or a
/// channel actor answering a remote request.
class parker {
public:
  virtual ~parker() = default;

  /// Wakes the sleeper and drops the reference that `retain` took. Called at
  /// most once per park, never under a channel lock. The caller must not touch
  /// the parker afterwards: a woken thread may already have destroyed it.
  virtual void unpark() noexcept = 0;

  /// Keeps the parker alive from the moment a waker takes its waiter until
  /// `unpark` (a goroutine can be killed in between).
  virtual void retain() noexcept {
    // nop
  }
};

} // namespace rotina::detail
