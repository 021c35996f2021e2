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
#include "rotina/node.hpp"
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

  /// Go's blocking Go from a goroutine: submits `b` if a slot is free (returns
  /// false: no suspension), else parks the goroutine at `h` with `w` linked
  /// until a finishing body hands its slot over and submits `b` (returns
  /// true). Throws panic_error with limit 0.
  bool go_wait(std::unique_ptr<body_base>& b, waiter* w,
               std::coroutine_handle<> h, cancel_fn fn, void* ctx);

  /// Go's blocking Go from a plain thread: blocks it until `b` is submitted.
  /// Aborts with a message on a scheduler worker (blocking it could deadlock
  /// the bodies that would free a slot). Throws panic_error with limit 0.
  void go_wait_thread(std::unique_ptr<body_base> b);

  void set_limit(int64_t n);

  /// The group's runtime, taken from the calling goroutine if it has none.
  /// Throws panic_error (errc::misuse) naming `what` without either.
  runtime& runtime_for(const char* what);

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

  /// Queues `b` and finds it a worker: wakes an idle one, or reserves a new
  /// one (returned; spawn it after unlocking). Under mtx_.
  worker_rec* enqueue_locked(std::unique_ptr<body_base> b, wake_list& wakes);

  /// Throws panic_error if limit_ == 0 (nothing can ever start). Under mtx_.
  void check_not_zero_limit_locked(const char* what) const;

  /// Takes the calling goroutine's runtime if the group has none; throws
  /// panic_error (errc::misuse) if there is none either. Under mtx_.
  void ensure_runtime_locked(const char* what);

  /// Whether a body may be submitted now without exceeding the limit.
  bool slot_free_locked() const noexcept {
    return limit_ < 0 || pending_ < static_cast<size_t>(limit_);
  }

  /// Hands free slots to go_wait()ers in FIFO order: moves each one's body
  /// into the queue and wakes it. Under mtx_; call after pending_ dropped.
  /// The worker that lowered pending_ (or a spare spawned by on_down for a
  /// non-empty queue) runs the admitted bodies.
  void admit_locked(wake_list& wakes);

  /// The runtime shuts down: go_wait()ers will never get a slot; wakes them
  /// with their bodies counted as dropped. Under mtx_.
  bool drop_slot_waiters_locked(wake_list& wakes);

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
  /// go_wait()ers parked for a slot; each waiter's slot points to its
  /// std::unique_ptr<body_base>.
  wait_list slot_waiters_;
  error first_;
  std::vector<error> all_;
  cancel_cause_func cancel_;
  bool has_cancel_ = false;
  std::list<worker_rec> recs_;
  std::unordered_map<caf::actor_id, std::list<worker_rec>::iterator> index_;
  supervisor_link link_;
};

/// What `g.wait()` and `g.wait_all()` return: an awaiter that parks the
/// goroutine until every body finished and yields the result. It does
/// nothing unless awaited ([[nodiscard]]); it never blocks in its destructor
/// and converts to nothing. Plain threads call g.wait_blocking(). Not an
/// aggregate (g++ 12, docs/design.md).
template <bool All>
class [[nodiscard]] errgroup_wait {
public:
  using result_type = std::conditional_t<All, std::vector<error>, error>;

  explicit errgroup_wait(std::shared_ptr<errgroup_state> st) noexcept
    : st_(std::move(st)) {
    // nop
  }

  errgroup_wait(const errgroup_wait&) = delete;
  errgroup_wait& operator=(const errgroup_wait&) = delete;

  /// The result once every body finished (what await_resume returns).
  static result_type result_of(errgroup_state& st) {
    auto first = st.finish_wait();
    if constexpr (All)
      return st.all_errors();
    else
      return first;
  }

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    return st_->wait_goroutine(&w_, h, &cancel, this);
  }

  result_type await_resume() {
    return result_of(*st_);
  }

private:
  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<errgroup_wait*>(ptr);
    return self->st_->withdraw(&self->w_);
  }

  std::shared_ptr<errgroup_state> st_;
  waiter w_;
};

/// What `g.go_wait(f)` returns: awaited in a goroutine it parks the goroutine
/// until a slot is free and the body is submitted. Holds the body until then;
/// dropped unawaited it drops the body ([[nodiscard]]). Not an aggregate
/// (g++ 12, docs/design.md); neither copyable nor movable.
class [[nodiscard]] errgroup_go_wait {
public:
  errgroup_go_wait(std::shared_ptr<errgroup_state> st,
                   std::unique_ptr<body_base> b) noexcept
    : st_(std::move(st)), b_(std::move(b)) {
    // nop
  }

  errgroup_go_wait(const errgroup_go_wait&) = delete;
  errgroup_go_wait& operator=(const errgroup_go_wait&) = delete;

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    return st_->go_wait(b_, &w_, h, &cancel, this);
  }

  void await_resume() const noexcept {
    // nop
  }

private:
  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<errgroup_go_wait*>(ptr);
    return self->st_->withdraw(&self->w_);
  }

  std::shared_ptr<errgroup_state> st_;
  std::unique_ptr<body_base> b_;
  waiter w_;
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
  /// parent);`. The context uses `rt` for timers and after_func unless
  /// `parent` has a runtime of its own. Throws panic_error "cannot create
  /// context from nil parent" on a nil parent, as Go panics.
  static std::pair<errgroup, context> with_context(runtime& rt,
                                                   const context& parent);

  // -- operations -------------------------------------------------------------

  /// go is Go's Group.Go(f): runs `f(args...)` on a worker goroutine. `f`
  /// returns task<error> or rotina::error (empty means success), task<> or
  /// void; an escaping exception counts as that body's error (errc::panic,
  /// its message kept). The first failure is what wait() returns and, with
  /// with_context, cancels the context.
  /// Throws panic_error (errc::misuse) "errgroup: go with limit 0 ..." after
  /// set_limit(0), where nothing could ever start.
  /// Deviation from Go: never blocks (the queueing form). With a limit, a
  /// body that finds no free slot waits in a FIFO queue and starts when one
  /// frees up (Go blocks the caller of Go instead: that is go_wait); at most
  /// `limit` bodies run at once either way. With limit 0 Go blocks for ever;
  /// rotina refuses at once.
  template <class F, class... Args>
  void go(F&& f, Args&&... args) const {
    st()->go(
      detail::make_body(std::forward<F>(f), std::forward<Args>(args)...));
  }

  /// go_wait is Go's Group.Go(f) exactly, for goroutines:
  /// `co_await g.go_wait(f);` parks the calling goroutine until a slot is
  /// free (fewer than `limit` bodies running or queued: the same slots as
  /// try_go), then submits the body and resumes; without a limit it never
  /// parks. Waiters get slots in FIFO order, as each finishing body hands its
  /// slot to the first of them. `f` and `args` are copied (or moved) into the
  /// body before the goroutine parks. g++ 12 rule: pass a named callable
  /// (`auto f = [x]() -> task<> {...}; co_await g.go_wait(f);`), never a
  /// capturing lambda written inside the co_await expression (g++ 12
  /// destroys such temporaries twice). If the waiting goroutine is killed the
  /// body is dropped, never run. Throws panic_error with limit 0 (Go blocks
  /// for ever there; see go).
  template <class F, class... Args>
  detail::errgroup_go_wait go_wait(F&& f, Args&&... args) const {
    return detail::errgroup_go_wait{
      st(), detail::make_body(std::forward<F>(f), std::forward<Args>(args)...)};
  }

  /// go_wait_blocking is go_wait for a plain thread (main, a std::thread, a
  /// go_blocking body): blocks the OS thread until a slot is free and the
  /// body is submitted. Aborts with a message if called on a scheduler
  /// worker (a goroutine must write `co_await g.go_wait(f)`). If the runtime
  /// shuts down while it waits, it returns and the body counts as a dropped
  /// body's error (errc::killed). Throws panic_error with limit 0.
  template <class F, class... Args>
  void go_wait_blocking(F&& f, Args&&... args) const {
    st()->go_wait_thread(
      detail::make_body(std::forward<F>(f), std::forward<Args>(args)...));
  }

  /// try_go is Go's Group.TryGo(f): starts the body only if a slot is free
  /// now (fewer than `limit` bodies running or queued) and says whether it
  /// did. Never blocks; always true without a limit, always false with limit
  /// 0 (Go: "A limit of zero will prevent any new goroutines from being
  /// added").
  template <class F, class... Args>
  bool try_go(F&& f, Args&&... args) const {
    auto b = detail::make_body(std::forward<F>(f), std::forward<Args>(args)...);
    return st()->try_go(b);
  }

  /// go_on is go for a goroutine registered as `name` on another node
  /// (rotina::go_on, <rotina/go_on.hpp>, which defines it): a local worker
  /// starts it on `where` and waits for its end, so the remote body holds
  /// one slot of set_limit while it runs and its outcome is that body's
  /// outcome: the remote error or exception with its origin (`"name" on node
  /// 'b'`), a refusal of the spawn (errc::not_found, errc::type_mismatch), or
  /// errc::node_down naming the node when the node is lost (so wait returns
  /// within the failure-detection bound; the first error wins as for local
  /// bodies). The arguments are converted now (see rotina::go_on).
  /// Deviation: the with_context context does not cross nodes yet; a remote
  /// body is not canceled with it.
  template <class... Args>
  void go_on(const node& where, std::string name, Args&&... args) const;

  /// try_go_on is try_go for a remote body (see go_on): starts it only if a
  /// slot is free now, and says whether it did.
  template <class... Args>
  bool try_go_on(const node& where, std::string name, Args&&... args) const;

  /// set_limit is Go's Group.SetLimit(n): at most `n` bodies run at once; a
  /// negative n means no limit. Go: "A limit of zero will prevent any new
  /// goroutines from being added": then try_go returns false, and go, go_wait
  /// and go_wait_blocking throw panic_error (Go's Go would block for ever;
  /// never a silent hang in wait). Throws panic_error (errc::misuse,
  /// "errgroup: modify limit while <k> goroutines in the group are still
  /// active") if bodies are running or queued, as Go panics.
  void set_limit(int64_t n) const {
    st()->set_limit(n);
  }

  /// wait is Go's Group.Wait, inside a goroutine: `error e = co_await
  /// g.wait();` parks the goroutine until every body submitted so far
  /// finished, cancels the with_context context, and returns the first error
  /// (empty if none). The awaiter does nothing unless awaited.
  detail::errgroup_wait<false> wait() const {
    return detail::errgroup_wait<false>{st()};
  }

  /// wait_blocking is Go's Group.Wait for a plain thread (main, a
  /// std::thread, a go_blocking body): `error e = g.wait_blocking();` blocks
  /// the OS thread. Aborts with a message on a scheduler worker (a goroutine
  /// writes `co_await g.wait()`).
  error wait_blocking() const {
    st()->wait_thread();
    return detail::errgroup_wait<false>::result_of(*st());
  }

  /// wait_all is wait() returning every body's error in the order they
  /// failed, not only the first (empty if none). Not in Go.
  detail::errgroup_wait<true> wait_all() const {
    return detail::errgroup_wait<true>{st()};
  }

  /// wait_all_blocking is wait_all for a plain thread (see wait_blocking).
  std::vector<error> wait_all_blocking() const {
    st()->wait_thread();
    return detail::errgroup_wait<true>::result_of(*st());
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
