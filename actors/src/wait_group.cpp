// wait_group: Go's sync.WaitGroup.
//
// Invariants (under mtx_):
// - count_ >= 0. An add that would make it negative, or overflow int64,
//   throws and changes nothing; the supervisor, which cannot throw, records
//   errc::negative_counter in errors_ instead.
// - waiters_ is empty whenever count_ == 0: the add that brings the counter to
//   zero unlinks every waiter, marks it completed and wakes it after the lock
//   is released. A waiter that arrives at zero never links.
// - Each goroutine started with go() was counted (count_ + 1) before it was
//   spawned and is uncounted exactly once: by the supervisor, when the down
//   message of its actor arrives. link_ holds the supervisor while such a
//   goroutine is outstanding.
#include "rotina/wait_group.hpp"

#include <string>

#include "rotina/detail/group_wait.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

namespace {

error negative_counter_error() {
  return error{errc::negative_counter, "sync: negative WaitGroup counter"};
}

error overflow_error(int64_t count, int64_t delta) {
  return error{errc::misuse, "sync: WaitGroup counter overflows (counter "
                               + std::to_string(count) + ", add "
                               + std::to_string(delta) + ")"};
}

} // namespace

void wait_group_state::add_locked(int64_t delta, wake_list& wakes) {
  int64_t next = 0;
  if (__builtin_add_overflow(count_, delta, &next)) {
    // Only a positive delta can overflow: count_ >= 0.
    throw panic_error{overflow_error(count_, delta)};
  }
  if (next < 0)
    throw panic_error{negative_counter_error()};
  count_ = next;
  if (count_ == 0) {
    while (auto w = waiters_.pop_front()) {
      w->completed = true;
      w->ok = true;
      wakes.add(w);
    }
  }
}

void wait_group_state::add(int64_t delta) {
  wake_list wakes; // wakes after the lock is released
  std::lock_guard<std::mutex> guard{mtx_};
  add_locked(delta, wakes);
}

int64_t wait_group_state::count() {
  std::lock_guard<std::mutex> guard{mtx_};
  return count_;
}

bool wait_group_state::wait_goroutine(waiter* w, std::coroutine_handle<> h,
                                      cancel_fn fn, void* ctx) {
  return group_wait_goroutine(
    mtx_, waiters_, [this] { return count_ == 0; }, w, h, fn, ctx);
}

void wait_group_state::wait_thread() noexcept {
  group_wait_thread(mtx_, waiters_, [this] { return count_ == 0; });
}

bool wait_group_state::withdraw(waiter* w) noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  if (w->list != nullptr)
    w->list->unlink(w);
  return w->completed;
}

std::vector<error> wait_group_state::errors() {
  std::lock_guard<std::mutex> guard{mtx_};
  return errors_;
}

caf::actor wait_group_state::go(std::unique_ptr<body_base> b, go_options opts) {
  caf::actor sup;
  runtime* rt;
  {
    wake_list wakes;
    std::lock_guard<std::mutex> guard{mtx_};
    if (rt_ == nullptr && (rt_ = current_runtime()) == nullptr)
      throw panic_error{error{
        errc::misuse, "rotina::wait_group::go on a wait_group without a "
                      "runtime: construct it with wait_group{rt} or call go "
                      "in a goroutine"}};
    rt = rt_;
    add_locked(1, wakes);
    sup = link_.acquire(*rt, shared_from_this());
  }
  caf::actor g;
  try {
    // The no-op hook tells the goroutine that a supervisor reports its
    // failure (through the down message), so it does not print it.
    g = spawn_goroutine(rt, std::move(b), std::move(opts), [](const error&) {});
  } catch (...) {
    caf::actor drop;
    {
      wake_list wakes;
      std::lock_guard<std::mutex> guard{mtx_};
      add_locked(-1, wakes);
      drop = link_.release();
    }
    throw;
  }
  supervise(sup, g);
  return g;
}

runtime& wait_group_state::runtime_for(const char* what) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (rt_ == nullptr && (rt_ = current_runtime()) == nullptr)
    throw panic_error{
      error{errc::misuse, std::string{"rotina::wait_group::"} + what
                            + " on a wait_group without a runtime: "
                              "construct it with wait_group{rt} or call it "
                              "in a goroutine"}};
  return *rt_;
}

caf::actor wait_group_state::supervisor() {
  std::lock_guard<std::mutex> guard{mtx_};
  return link_.get();
}

void wait_group_state::on_down(caf::actor_id who, error outcome, bool) {
  caf::actor drop; // released after the lock
  wake_list wakes;
  std::lock_guard<std::mutex> guard{mtx_};
  if (outcome)
    errors_.push_back(outcome.with_origin("goroutine-" + std::to_string(who)));
  if (count_ == 0)
    errors_.push_back(negative_counter_error()); // done() called too often
  else
    add_locked(-1, wakes);
  drop = link_.release();
}

} // namespace rotina::detail
