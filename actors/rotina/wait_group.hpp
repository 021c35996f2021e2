// rotina::wait_group: Go's sync.WaitGroup. A counter with an in-process fast
// path, and a supervisor actor that watches the goroutines started with
// wait_group::go.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <caf/actor.hpp>

#include "rotina/detail/park.hpp"
#include "rotina/detail/supervisor.hpp"
#include "rotina/error.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/node.hpp"

namespace rotina {

class runtime;

namespace detail {

/// The shared state of a wait_group (see actors/src/wait_group.cpp for its
/// invariants).
class wait_group_state final
  : public supervised,
    public std::enable_shared_from_this<wait_group_state> {
public:
  explicit wait_group_state(runtime* rt) noexcept : rt_(rt) {
    // nop
  }

  /// Adds `delta`; wakes every waiter when the counter reaches zero. Throws
  /// panic_error(errc::negative_counter) and leaves the counter unchanged if
  /// it would go below zero.
  void add(int64_t delta);

  int64_t count();

  /// Parks the calling goroutine at `h` and links `w` unless the counter is
  /// zero. Returns whether it parked.
  bool wait_goroutine(waiter* w, std::coroutine_handle<> h, cancel_fn fn,
                      void* ctx);

  /// Blocks the calling OS thread until the counter is zero.
  void wait_thread() noexcept;

  /// Unlinks `w` (its goroutine was killed while waiting). Returns whether a
  /// waker had completed it already.
  bool withdraw(waiter* w) noexcept;

  std::vector<error> errors();

  /// Adds one, spawns the goroutine and has the supervisor monitor it.
  caf::actor go(std::unique_ptr<body_base> b, go_options opts);

  /// The supervisor actor, if a goroutine started with go() is running.
  caf::actor supervisor();

  /// The group's runtime, taken from the calling goroutine if it has none.
  /// Throws panic_error (errc::misuse) without either.
  runtime& runtime_for(const char* what);

  void on_down(caf::actor_id who, error outcome, bool shutdown) override;

private:
  /// Call under mtx_. Throws on a negative counter.
  void add_locked(int64_t delta, wake_list& wakes);

  std::mutex mtx_;
  runtime* rt_;
  int64_t count_ = 0;
  wait_list waiters_;
  std::vector<error> errors_;
  supervisor_link link_;
};

/// What `wg.wait()` returns: an awaiter that parks the goroutine until the
/// counter is zero. It does nothing unless awaited ([[nodiscard]]: a bare
/// `wg.wait();` does not compile with -Werror); it never blocks in its
/// destructor. Plain threads call wg.wait_blocking(). Not an aggregate
/// (g++ 12, docs/design.md).
class [[nodiscard]] wait_group_wait {
public:
  explicit wait_group_wait(std::shared_ptr<wait_group_state> st) noexcept
    : st_(std::move(st)) {
    // nop
  }

  wait_group_wait(const wait_group_wait&) = delete;
  wait_group_wait& operator=(const wait_group_wait&) = delete;

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    return st_->wait_goroutine(&w_, h, &cancel, this);
  }

  void await_resume() const noexcept {
    // nop
  }

private:
  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<wait_group_wait*>(ptr);
    return self->st_->withdraw(&self->w_);
  }

  std::shared_ptr<wait_group_state> st_;
  waiter w_;
};

} // namespace detail

/// wait_group is Go's sync.WaitGroup: a counter of outstanding goroutines that
/// others wait on. Copies of a wait_group refer to the same group (like a Go
/// `*sync.WaitGroup`). A default-constructed wait_group is ready to use, as
/// Go's zero value is.
///
/// Behind `go` is a supervisor actor that monitors each goroutine's actor, so
/// a goroutine counts as done however it ends (returned, threw, killed), and
/// the errors of those that failed are kept (`errors()`).
class wait_group {
public:
  // -- constructors, destructors, and assignment operators --------------------

  /// Go's `var wg sync.WaitGroup`. `go` then needs to be called inside a
  /// goroutine (it uses that goroutine's runtime).
  wait_group() : st_(std::make_shared<detail::wait_group_state>(nullptr)) {
    // nop
  }

  /// A wait group whose `go` starts goroutines in `rt`.
  explicit wait_group(runtime& rt)
    : st_(std::make_shared<detail::wait_group_state>(&rt)) {
    // nop
  }

  // -- operations -------------------------------------------------------------

  /// add is Go's WaitGroup.Add(delta): adds `delta` (which may be negative)
  /// to the counter; when it reaches zero every waiter wakes. Never blocks.
  /// Throws panic_error "sync: negative WaitGroup counter"
  /// (errc::negative_counter) if the counter would go below zero, and leaves
  /// it unchanged. Throws panic_error "sync: WaitGroup counter overflows"
  /// (errc::misuse, with the counter and delta) if the counter would exceed
  /// INT64_MAX, and leaves it unchanged. Deviation from Go: Go panics and
  /// leaves the counter negative; Go's 32-bit counter silently wraps past
  /// 2^31-1 (then reports a negative counter); an Add that races with Wait is
  /// not detected.
  void add(int64_t delta) const {
    st_->add(delta);
  }

  /// done is Go's WaitGroup.Done: `add(-1)`.
  void done() const {
    st_->add(-1);
  }

  /// wait is Go's WaitGroup.Wait, inside a goroutine: `co_await wg.wait();`
  /// parks the goroutine (not its thread) until the counter is zero, and
  /// returns at once if it is zero now. Every waiter wakes; the group can be
  /// reused afterwards. If the goroutine is killed while parked it is unlinked
  /// and the counter is unchanged. The awaiter does nothing unless awaited.
  detail::wait_group_wait wait() const {
    return detail::wait_group_wait{st_};
  }

  /// wait_blocking is Go's WaitGroup.Wait for a plain thread (main, a
  /// std::thread, a go_blocking body): blocks the OS thread until the counter
  /// is zero. Aborts with a message on a scheduler worker, where blocking
  /// could deadlock the goroutines being waited for (a goroutine writes
  /// `co_await wg.wait()`).
  void wait_blocking() const {
    st_->wait_thread();
  }

  /// go is Go 1.25's WaitGroup.Go(f): adds one, starts `f(args...)` as a
  /// goroutine (see rotina::go) and marks it done when the goroutine ends for
  /// any reason: it returned, it threw, or its actor was killed. The group's
  /// supervisor actor learns it by monitoring the goroutine's actor, not from
  /// the body. A failure (returned error, escaped exception, kill) is kept in
  /// `errors()` instead of being printed. Never blocks.
  /// Throws panic_error (errc::misuse) on a zero-value wait_group called
  /// outside a goroutine (no runtime to start it in); the counter is then
  /// unchanged.
  /// Deviation from Go: returns the goroutine's actor (e.g. to monitor or kill
  /// it); Go's f must not panic, ours may throw.
  template <class F, class... Args>
  caf::actor go(F&& f, Args&&... args) const {
    return st_->go(
      detail::make_body(std::forward<F>(f), std::forward<Args>(args)...), {});
  }

  /// go_on is go for a goroutine registered as `name` on another node
  /// (rotina::go_on, <rotina/go_on.hpp>, which defines it): adds one, and a
  /// local goroutine starts the body on `where` and marks it done when it
  /// ended there, however it ended. A remote failure is kept in errors()
  /// with its origin (`"name" on node 'b'`); a lost node counts the body as
  /// done with errc::node_down naming the node, within the failure-detection
  /// bound, so wait returns instead of hanging and errors() says why. The
  /// arguments are converted now (see rotina::go_on).
  template <class... Args>
  void go_on(const node& where, std::string name, Args&&... args) const;

  // -- properties -------------------------------------------------------------

  /// The errors of goroutines started with `go` that failed, in the order
  /// their supervisor learned of them (errc::panic for an escaped exception,
  /// with its message; errc::killed for a killed actor; the body's own error
  /// for a body returning rotina::error). Not in Go.
  std::vector<error> errors() const {
    return st_->errors();
  }

  /// The current counter value (for tests and diagnostics; Go has no such
  /// call).
  int64_t count() const {
    return st_->count();
  }

  /// The supervisor actor while goroutines started with `go` run, else an
  /// invalid handle.
  caf::actor supervisor() const {
    return st_->supervisor();
  }

private:
  std::shared_ptr<detail::wait_group_state> st_;
};

} // namespace rotina
