// rotina::errgroup: golang.org/x/sync/errgroup. Runs bodies on at most
// `limit` worker goroutines supervised by an actor, collects the first error
// (and, beyond Go, all of them), and cancels a derived context.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include "rotina/context.hpp"
#include "rotina/detail/park.hpp"
#include "rotina/detail/supervisor.hpp"
#include "rotina/error.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/task.hpp"

namespace rotina {

class runtime;

namespace detail {

/// The shared state of an errgroup (see actors/src/errgroup.cpp for its
/// invariants and the worker protocol).
class errgroup_state final
  : public supervised,
    public std::enable_shared_from_this<errgroup_state> {
public:
  /// What a worker goroutine is doing, as its supervisor needs to know.
  struct worker_rec {
    caf::actor_id id = 0;
    caf::actor_addr addr;
    /// Running a body now.
    bool busy = false;
    /// Left the group normally (no body lost if its actor ends).
    bool exited = false;
  };

  explicit errgroup_state(runtime* rt) noexcept : rt_(rt) {
    // nop
  }

  // -- called through errgroup --

  void go(std::unique_ptr<body_base> b);

  bool try_go(std::unique_ptr<body_base>& b);

  void set_limit(int64_t n);

  /// Call before the first go().
  void set_cancel(cancel_cause_func f) {
    cancel_ = std::move(f);
    has_cancel_ = true;
  }

  bool wait_goroutine(waiter* w, std::coroutine_handle<> h, cancel_fn fn,
                      void* ctx);

  void wait_thread() noexcept;

  bool withdraw(waiter* w) noexcept;

  /// After a wait: retires idle workers, cancels the context (Go's rule:
  /// also without errors) and returns the first error.
  error finish_wait();

  std::vector<error> all_errors();

  /// The last errgroup handle is gone: idle workers leave.
  void orphan();

  std::vector<caf::actor> workers();

  caf::actor supervisor();

  // -- called by worker goroutines (actors/src/errgroup.cpp) --

  enum class step { run, retry, exit };

  /// Under the lock: hands `rec` the next body, or parks it idle (returns
  /// false from the awaiter's view), or tells it to exit.
  step next_locked(worker_rec* rec, std::unique_ptr<body_base>& out);

  /// The worker's next step; parks the goroutine at `h` when idle.
  step next(worker_rec* rec, std::unique_ptr<body_base>& out, waiter* w,
            std::coroutine_handle<> h, cancel_fn fn, void* ctx);

  /// The worker's body finished with `outcome`.
  void body_done(worker_rec* rec, error outcome);

  std::mutex& mtx() noexcept {
    return mtx_;
  }

  void on_down(caf::actor_id who, error outcome, bool shutdown) override;

private:
  /// go() and try_go(); `only_if_free` refuses when no slot is free.
  bool submit(std::unique_ptr<body_base>& b, bool only_if_free);

  /// Counts `e` as a failure; returns whether it was the first. Under mtx_.
  bool record_locked(const error& e);

  /// Wakes wait()ers if nothing is pending. Under mtx_.
  void check_idle_locked(wake_list& wakes);

  /// Tells idle workers to exit, at most `n`. Under mtx_.
  void retire_locked(size_t n, wake_list& wakes);

  /// Starts a worker: reserves it under mtx_ and returns its record; spawn
  /// it with spawn_worker after unlocking.
  worker_rec* reserve_worker_locked();

  void spawn_worker(worker_rec* rec);

  std::mutex mtx_;
  runtime* rt_;
  int64_t limit_ = -1;
  /// Bodies running now.
  size_t running_ = 0;
  /// Bodies submitted and not finished (queued + running).
  size_t pending_ = 0;
  /// Live worker goroutines (busy, idle or between bodies).
  size_t workers_ = 0;
  bool orphaned_ = false;
  std::deque<std::unique_ptr<body_base>> queue_;
  wait_list idle_;
  wait_list waiters_;
  error first_;
  std::vector<error> all_;
  cancel_cause_func cancel_;
  bool has_cancel_ = false;
  std::list<worker_rec> recs_;
  std::unordered_map<caf::actor_id, std::list<worker_rec>::iterator> index_;
  supervisor_link link_;
};

/// What `g.wait()` and `g.wait_all()` return: awaited in a goroutine it parks
/// the goroutine; converted to its result (or via get()) it blocks the calling
/// thread; discarded unawaited, its destructor blocks. Not an aggregate
/// (g++ 12, docs/design.md).
template <bool All>
class errgroup_wait {
public:
  using result_type = std::conditional_t<All, std::vector<error>, error>;

  explicit errgroup_wait(std::shared_ptr<errgroup_state> st) noexcept
    : st_(std::move(st)) {
    // nop
  }

  errgroup_wait(errgroup_wait&& other) noexcept
    : st_(std::move(other.st_)), used_(std::exchange(other.used_, true)) {
    // nop
  }

  errgroup_wait(const errgroup_wait&) = delete;
  errgroup_wait& operator=(const errgroup_wait&) = delete;
  errgroup_wait& operator=(errgroup_wait&&) = delete;

  ~errgroup_wait() {
    if (!used_ && st_) {
      st_->wait_thread();
      st_->finish_wait();
    }
  }

  /// Blocks the calling thread until every body finished; returns the result.
  result_type get() {
    used_ = true;
    st_->wait_thread();
    return result();
  }

  operator result_type() {
    return get();
  }

  bool await_ready() noexcept {
    used_ = true;
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    return st_->wait_goroutine(&w_, h, &cancel, this);
  }

  result_type await_resume() {
    return result();
  }

private:
  result_type result() {
    auto first = st_->finish_wait();
    if constexpr (All)
      return st_->all_errors();
    else
      return first;
  }

  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<errgroup_wait*>(ptr);
    return self->st_->withdraw(&self->w_);
  }

  std::shared_ptr<errgroup_state> st_;
  waiter w_;
  bool used_ = false;
};

/// Held by every errgroup handle; the last one orphans the state.
class errgroup_owner {
public:
  explicit errgroup_owner(std::shared_ptr<errgroup_state> st) noexcept
    : st_(std::move(st)) {
    // nop
  }

  errgroup_owner(const errgroup_owner&) = delete;
  errgroup_owner& operator=(const errgroup_owner&) = delete;

  ~errgroup_owner() {
    st_->orphan();
  }

  const std::shared_ptr<errgroup_state>& state() const noexcept {
    return st_;
  }

private:
  std::shared_ptr<errgroup_state> st_;
};

} // namespace detail

/// errgroup is golang.org/x/sync/errgroup's Group: a group of goroutines
/// working on subtasks of one task, with the first error kept and, with
/// with_context, a context canceled at the first error. Copies refer to the
/// same group (like Go's `*errgroup.Group`), so a body may capture the group
/// and start more bodies.
///
/// Bodies run on worker goroutines, at most `limit` of them, that take bodies
/// from a FIFO queue; a supervisor actor monitors the workers, so a worker
/// whose actor is killed counts as a failed body (errc::killed) and is
/// replaced, and never hangs wait().
class errgroup {
public:
  // -- constructors, destructors, and assignment operators --------------------

  /// Go's `var g errgroup.Group` (`new(errgroup.Group)`), inside a goroutine:
  /// bodies run in that goroutine's runtime.
  errgroup() : errgroup(nullptr) {
    // nop
  }

  /// A group whose bodies run in `rt`.
  explicit errgroup(runtime& rt) : errgroup(&rt) {
    // nop
  }

  /// with_context is Go's errgroup.WithContext(ctx): a new group and a
  /// context derived from `parent` that is canceled the first time a body
  /// fails (with that error as its cause()) or the first time wait() returns,
  /// whichever occurs first. Use as `auto [g, ctx] = errgroup::with_context(rt,
  /// parent);`.
  static std::pair<errgroup, context> with_context(runtime& rt,
                                                   const context& parent);

  // -- operations -------------------------------------------------------------

  /// go is Go's Group.Go(f): runs `f(args...)` on a worker goroutine. `f`
  /// returns task<error> or rotina::error (empty means success), task<> or
  /// void; an escaping exception counts as that body's error (errc::panic,
  /// its message kept). The first failure is what wait() returns and, with
  /// with_context, cancels the context.
  /// Deviation from Go: never blocks. With a limit, a body that finds no free
  /// slot waits in a FIFO queue and starts when one frees up (Go blocks the
  /// caller of Go instead); at most `limit` bodies run at once either way.
  template <class F, class... Args>
  void go(F&& f, Args&&... args) const {
    st()->go(
      detail::make_body(std::forward<F>(f), std::forward<Args>(args)...));
  }

  /// try_go is Go's Group.TryGo(f): starts the body only if a slot is free
  /// now (fewer than `limit` bodies running or queued) and says whether it
  /// did. Never blocks; always true without a limit.
  template <class F, class... Args>
  bool try_go(F&& f, Args&&... args) const {
    auto b = detail::make_body(std::forward<F>(f), std::forward<Args>(args)...);
    return st()->try_go(b);
  }

  /// set_limit is Go's Group.SetLimit(n): at most `n` bodies run at once; a
  /// negative n means no limit. Throws panic_error (errc::misuse, "errgroup:
  /// modify limit while <k> goroutines in the group are still active") if
  /// bodies are running or queued, as Go panics.
  void set_limit(int64_t n) const {
    st()->set_limit(n);
  }

  /// wait is Go's Group.Wait: waits until every body submitted so far
  /// finished, cancels the with_context context, and returns the first error
  /// (empty if none). Inside a goroutine: `error e = co_await g.wait();`
  /// parks the goroutine. On a plain thread: `error e = g.wait();` (or
  /// `g.wait().get()`, or the statement `g.wait();`) blocks the thread.
  detail::errgroup_wait<false> wait() const {
    return detail::errgroup_wait<false>{st()};
  }

  /// wait_all is wait() returning every body's error in the order they
  /// failed, not only the first (empty if none). Not in Go.
  detail::errgroup_wait<true> wait_all() const {
    return detail::errgroup_wait<true>{st()};
  }

  // -- properties -------------------------------------------------------------

  /// The supervisor actor while workers run, else an invalid handle.
  caf::actor supervisor() const {
    return st()->supervisor();
  }

  /// The worker goroutines' actors now (for diagnostics and tests).
  std::vector<caf::actor> workers() const {
    return st()->workers();
  }

private:
  explicit errgroup(runtime* rt);

  const std::shared_ptr<detail::errgroup_state>& st() const noexcept {
    return owner_->state();
  }

  std::shared_ptr<detail::errgroup_owner> owner_;
};

} // namespace rotina
