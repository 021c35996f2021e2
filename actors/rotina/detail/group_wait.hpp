// The wait() of wait_group and errgroup: park until a group counter reaches
// zero, from a goroutine or from a plain thread.
#pragma once

#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "rotina/detail/park.hpp"

namespace rotina::detail {

/// Links `w` into `waiters` and parks the current goroutine unless `done()`
/// holds under `mtx`. Returns false (no suspension) if it did.
template <class Done>
bool group_wait_goroutine(std::mutex& mtx, wait_list& waiters, Done done,
                          waiter* w, std::coroutine_handle<> h, cancel_fn fn,
                          void* ctx) {
  std::lock_guard<std::mutex> guard{mtx};
  if (done())
    return false;
  w->who = park_current(h, fn, ctx);
  waiters.push_back(w);
  return true;
}

/// Blocks the calling thread until `done()` holds under `mtx`; the waker
/// completes the waiter under `mtx`. Aborts with a message on a scheduler
/// worker, where blocking could deadlock the goroutines being waited for.
template <class Done>
void group_wait_thread(std::mutex& mtx, wait_list& waiters,
                       Done done) noexcept {
  if (on_scheduler_worker()) {
    std::fputs("rotina: wait_blocking() called inside a goroutine (it would "
               "block a scheduler worker); write `co_await g.wait()`\n",
               stderr);
    std::abort();
  }
  thread_parker parker;
  waiter w;
  {
    std::lock_guard<std::mutex> guard{mtx};
    if (done())
      return;
    w.who = &parker;
    waiters.push_back(&w);
  }
  parker.wait();
  // The waker completed `w` under mtx; taking it once more orders our return
  // after the waker's last touch of `w`.
  std::lock_guard<std::mutex> guard{mtx};
}

} // namespace rotina::detail
