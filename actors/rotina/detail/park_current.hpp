// How an awaiter parks the current goroutine. Header-light (only <coroutine>):
// <rotina/chan.hpp> reaches it; the goroutine actor behind it lives in
// goroutine.cpp.
#pragma once

#include <coroutine>

#include "rotina/detail/parker.hpp"

namespace rotina::detail {

/// Cleanup run if a goroutine is killed (or its runtime shut down) while it is
/// parked: it unlinks the awaiter's waiters from their channels and keeps a
/// value that was delivered but never resumed for destruction with the frame.
/// Returns true if a waker had already completed the awaiter (and so sent a
/// wake that will never be handled). Runs on the goroutine's actor.
using cancel_fn = bool (*)(void* ctx) noexcept;

/// Parks the goroutine running on this thread at `h`: the next `unpark` of the
/// returned parker resumes `h` (once). Call it before the waiter becomes
/// visible to other threads. Throws panic_error (errc::misuse) outside a
/// goroutine.
parker* park_current(std::coroutine_handle<> h, cancel_fn on_cancel, void* ctx);

/// Undoes `park_current` when the awaiter completed without suspending and no
/// other party will unpark it.
void unpark_current() noexcept;

/// True if this thread is running a goroutine.
bool in_goroutine() noexcept;

/// True if this thread is a scheduler worker running a goroutine, where
/// blocking the thread would stall other goroutines (false inside a
/// go_blocking body, which has a thread of its own).
bool on_scheduler_worker() noexcept;

} // namespace rotina::detail
