// The select half of the channel core: Go's selectgo (runtime/select.go) over
// chan_core, compiled once.
//
// Invariants (besides chan.cpp's):
// - A select locks every channel of its cases in address order (each once)
//   before it polls any case, and holds them all until every waiter is linked:
//   checking the cases and registering is one atomic step for every other
//   party, so no value can slip past a select that is about to sleep.
// - A parked select's waiters all point to one select_state; the first party
//   to claim it (a channel completing one waiter) commits the select to that
//   case. Every other waiter of the select is skipped by pop_claimed and later
//   withdrawn by the select itself (select_finish), so no case that was not
//   chosen takes a value.
// - The select sleeps on one parker: a goroutine's (park_current) or, in
//   select_blocking, a thread_parker on the calling thread's stack.
#include "rotina/select.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "chan_core.hpp"
#include "rotina/detail/park.hpp"
#include "rotina/error.hpp"

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

op_status select_poll_send_locked(chan_core* c, void* value, wake_list& wakes) {
  return c->send_locked(value, wakes);
}

op_status select_poll_recv_locked(chan_core* c, void* out, wake_list& wakes) {
  return c->recv_locked(out, wakes);
}

void select_enqueue_send_locked(chan_core* c, waiter* w) noexcept {
  c->enqueue_send_locked(w);
}

void select_enqueue_recv_locked(chan_core* c, waiter* w) noexcept {
  c->enqueue_recv_locked(w);
}

bool select_withdraw(chan_core* c, waiter* w) noexcept {
  std::lock_guard<spinlock> guard{c->lock()};
  chan_core::unlink_locked(w);
  return w->completed;
}

int32_t select_begin(select_case_base** cases, int32_t n, select_state* sel,
                     parker* (*park)(void* ctx), void* ctx) {
  // Go's selectgo: lock every channel involved, in address order, so that
  // checking the cases and linking the waiters is one atomic step for every
  // other party.
  chan_core* locks[16];
  int32_t nlocks = 0;
  for (int32_t i = 0; i < n; ++i)
    if (auto c = cases[i]->core())
      locks[nlocks++] = c;
  std::sort(locks, locks + nlocks);
  nlocks = static_cast<int32_t>(std::unique(locks, locks + nlocks) - locks);
  // A random permutation (Fisher-Yates over the fast generator) visits every
  // case once in a uniformly random order: Go picks the ready case uniformly.
  int32_t order[16];
  for (int32_t i = 0; i < n; ++i)
    order[i] = i;
  for (int32_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[fast_random(static_cast<uint32_t>(i + 1))]);
  wake_list wakes; // destroyed last: wakes after every lock is released
  for (int32_t i = 0; i < nlocks; ++i)
    locks[i]->lock().lock();
  struct unlocker {
    chan_core** locks;
    int32_t n;
    ~unlocker() {
      for (int32_t i = n; i > 0; --i)
        locks[i - 1]->lock().unlock();
    }
  } guard{locks, nlocks};
  int32_t chosen = -1;
  int32_t dflt = -1;
  for (int32_t k = 0; k < n && chosen < 0; ++k) {
    auto i = order[k];
    if (cases[i]->is_default()) {
      dflt = i;
      continue;
    }
    if (cases[i]->core() == nullptr)
      continue; // nil channel: never ready
    switch (cases[i]->try_locked(wakes)) {
    case op_status::done:
      chosen = i;
      break;
    case op_status::closed:
      // A receive from a closed channel is ready; a send panics, which the
      // case reports when its handler runs.
      chosen = i;
      break;
    default:
      break;
    }
  }
  if (chosen < 0 && dflt >= 0)
    chosen = dflt;
  if (chosen < 0) {
    auto who = park(ctx);
    for (int32_t k = 0; k < n; ++k)
      if (cases[order[k]]->core() != nullptr)
        cases[order[k]]->enqueue_locked(who, sel, order[k]);
  }
  return chosen;
}

bool select_has_remote(select_case_base** cases, int32_t n) noexcept {
  for (int32_t i = 0; i < n; ++i)
    if (cases[i]->remote() != nullptr)
      return true;
  return false;
}

namespace {

/// The notify-only waiters of one round of waiting of a select with remote
/// cases: one per case (linked locally, or registered at the remote owner),
/// one claim flag for the round; the first case that may proceed fires it
/// and wakes `who`, after which the others are withdrawn and the select
/// tries again.
class notify_set {
public:
  notify_set(select_case_base** cases, int32_t n) noexcept
    : cases_(cases), n_(n) {
    // nop
  }

  notify_set(const notify_set&) = delete;
  notify_set& operator=(const notify_set&) = delete;

  /// Links a waiter per case; a case that is ready now wakes `who` at once
  /// and ends the registering.
  void link(parker* who) {
    for (int32_t i = 0; i < n_; ++i) {
      if (cases_[i]->is_default())
        continue;
      auto& w = ws_[i];
      w.notify = true;
      w.sel = &once_;
      w.case_index = i;
      w.who = who;
      if (cases_[i]->watch(&w)) {
        fire_notify(&w);
        break;
      }
      linked_[i] = true;
    }
  }

  void unlink_all() noexcept {
    for (int32_t i = 0; i < n_; ++i)
      if (linked_[i]) {
        cases_[i]->unwatch(&ws_[i]);
        linked_[i] = false;
      }
  }

private:
  select_case_base** cases_;
  int32_t n_;
  select_state once_;
  waiter ws_[16];
  bool linked_[16] = {};
};

/// `co_await` of one round of waiting (a goroutine). Not an aggregate
/// (g++ 12, docs/design.md).
class notify_wait {
public:
  notify_wait(select_case_base** cases, int32_t n) noexcept : set_(cases, n) {
    // nop
  }

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    set_.link(park_current(h, &cancel, this));
    return true;
  }

  void await_resume() noexcept {
    set_.unlink_all();
  }

private:
  static bool cancel(void* ptr) noexcept {
    static_cast<notify_wait*>(ptr)->set_.unlink_all();
    return false;
  }

  notify_set set_;
};

/// Tries the cases one by one in Go's pollorder (a uniformly random
/// permutation; the first case that can proceed is chosen, so each ready
/// case is equally likely). Returns its index, else the default case's, else
/// -1.
int32_t select_try_pollorder(select_case_base** cases, int32_t n) {
  int32_t order[16];
  for (int32_t i = 0; i < n; ++i)
    order[i] = i;
  for (int32_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[fast_random(static_cast<uint32_t>(i + 1))]);
  int32_t dflt = -1;
  for (int32_t k = 0; k < n; ++k) {
    auto i = order[k];
    if (cases[i]->is_default())
      dflt = i;
    else if (cases[i]->try_now() != op_status::blocked)
      return i;
  }
  return dflt;
}

} // namespace

task<int32_t> select_remote(select_case_base** cases, int32_t n) {
  for (;;) {
    if (auto chosen = select_try_pollorder(cases, n); chosen >= 0)
      co_return chosen;
    co_await notify_wait{cases, n};
  }
}

int32_t select_finish(select_case_base** cases, int32_t n,
                      const select_state& sel) noexcept {
  auto chosen = sel.winner();
  for (int32_t i = 0; i < n; ++i)
    if (i != chosen)
      cases[i]->withdraw();
  cases[chosen]->take_from_waiter();
  return chosen;
}

int32_t select_blocking_impl(select_case_base** cases, int32_t n) {
  require_plain_thread("select_blocking");
  if (select_has_remote(cases, n)) {
    // select_remote's loop, sleeping on this thread.
    for (;;) {
      if (auto chosen = select_try_pollorder(cases, n); chosen >= 0)
        return chosen;
      thread_parker sleeper;
      notify_set set{cases, n};
      set.link(&sleeper);
      sleeper.wait();
      set.unlink_all();
    }
  }
  thread_parker sleeper;
  select_state sel;
  auto park
    = [](void* ptr) -> parker* { return static_cast<thread_parker*>(ptr); };
  auto chosen = select_begin(cases, n, &sel, park, &sleeper);
  if (chosen >= 0)
    return chosen;
  // The claiming channel completed our waiter under its lock and then woke
  // the parker: the parker's mutex orders its writes before our reads.
  sleeper.wait();
  return select_finish(cases, n, sel);
}

} // namespace rotina::detail
