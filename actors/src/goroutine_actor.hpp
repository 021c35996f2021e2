// The goroutine actor: a CAF event-based actor that runs one coroutine body.
// Internal to actors/src.
//
// Invariants:
// - A goroutine actor holds a strong reference to itself (keep_alive_) from
//   its first run until its body finished or it was killed (a pooled actor,
//   below, keeps it until it is ended), so CAF never ends it for lack of
//   references while it is parked.
// - The body (callable, arguments, coroutine frame) lives in the actor until
//   the body finished or the actor exited.
// - The coroutine runs only on the actor, never concurrently with its
//   message handlers: at start (make_behavior), on a wake message (sleep,
//   yield, detached goroutines), or from resume() when wake_pending_ is set.
// - Every park (park_current) is matched by exactly one unpark; a sleep or
//   yield by exactly one delayed wake message. So a wake always finds the
//   coroutine suspended at resume_point_.
// - A sleep holds one reference to the actor (retain) in its timer entry,
//   released by the entry's unpark when it fires or by its destructor when
//   it is dropped unfired (on_exit canceled it, or shutdown stopped the
//   timer service): exactly one of them.
// - A yield sets wake_pending_ and yielded_ while the actor runs; resume()
//   then returns resume_later, so the worker puts the actor at the back of
//   its run queue (Go's Gosched) and the next resume continues the body. No
//   message and no clock are involved.
// - Fast wake (unpark of a scheduled goroutine): the waker sets wake_pending_
//   and then tries to move the mailbox from blocked to empty; whoever wins
//   that transition (the waker, or the actor re-checking wake_pending_ after
//   it blocked its mailbox) makes sure the actor runs once more. Both sides
//   use sequentially consistent operations (store/CAS vs CAS/load), so a wake
//   is never lost and the actor is never scheduled twice. No CAF message is
//   built, matched or dispatched for a channel wake.
// - Reuse (Go's gfput/gfget): an actor made for a pending goroutine
//   (reusable_) does not quit when its body finishes. It clears every
//   per-goroutine field, leaves the live registry and goes to its env's pool
//   with its self-reference; a later pending goroutine takes it (rebind),
//   sets the new body and wakes it through the fast-wake protocol above
//   (wake_pending_ plus start_pending_), so the new body starts on the actor
//   exactly once. Nothing of the previous goroutine survives but the actor
//   id (its name gets a generation: goroutine-<id>.<n>). A killed goroutine
//   (on_exit) is never pooled; a canceled runtime closes the pool and ends
//   the pooled actors. Actors that others may address (supervised ones,
//   spawn_goroutine's result) are never reusable. A waker's late
//   try_unblock may schedule a pooled actor once more: it then finds no
//   wake pending and blocks again.
// - Live-work accounting: a goroutine counts as live work of its runtime
//   (runtime::work_started/finished) from spawn until its body finished or it
//   was killed; a pending timer counts too. Parking touches no shared
//   counter: the runtime's idle check (goroutine_env::idle) instead scans for
//   "every live goroutine parked, no timer pending, no wake in between",
//   Go's "all goroutines are asleep".
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "rotina/detail/goroutine_env.hpp"
#include "rotina/detail/park.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

using wake_atom = caf::atom_constant<caf::atom("rt_wake")>;

/// The goroutine running on this thread, or null.
extern thread_local goroutine_actor* tl_current;

/// The message that wakes a detached goroutine.
const caf::message& wake_message();

/// The timer entry of one sleep: wakes its goroutine. Owns one reference to
/// the goroutine's actor until it fires (unpark releases it) or is dropped
/// unfired (canceled or shutdown: the destructor releases it).
class sleep_entry final : public timer_entry {
public:
  sleep_entry(parker* who, caf::actor_control_block* ctrl) noexcept
    : who_(who), ctrl_(ctrl) {
    // nop
  }

  ~sleep_entry() override {
    if (who_ != nullptr)
      caf::intrusive_ptr_release(ctrl_);
  }

  timer_clock::time_point fire(timer_clock::time_point) noexcept override {
    std::exchange(who_, nullptr)->unpark(); // releases the reference
    return timer_clock::time_point::min();
  }

private:
  parker* who_;
  caf::actor_control_block* ctrl_;
};

class goroutine_actor final : public caf::event_based_actor, public parker {
public:
  /// `was_pending`: the goroutine was counted as a pending one
  /// (goroutine_env::add_pending) and now gets this actor.
  goroutine_actor(caf::actor_config& cfg, std::shared_ptr<goroutine_env> env,
                  std::unique_ptr<body_base> body, go_options opts,
                  exit_hook hook, bool was_pending = false)
    : caf::event_based_actor(cfg), env_(std::move(env)), body_(std::move(body)),
      name_(std::move(opts.name)), file_(opts.file), line_(opts.line),
      hook_(std::move(hook)), reusable_(was_pending) {
    if (was_pending)
      env_->bind_pending(this);
    else
      env_->add(this);
  }

  ~goroutine_actor() override {
    if (body_ != nullptr) {
      // Never ran (the system shut down first): still uncount it.
      body_.reset();
      finish_accounting();
    }
  }

  // -- actor interface --------------------------------------------------------

  caf::behavior make_behavior() override {
    if (env_->canceled()) {
      // Spawned while the runtime shuts down: never run.
      quit(caf::exit_reason::user_shutdown);
      return {};
    }
    keep_alive_ = ctrl();
    if (!run_first())
      return {}; // the body finished during its first run and we quit
    return {
      [this](wake_atom) { (void)resume_body(); },
    };
  }

  void on_exit() override {
    if (body_ != nullptr) {
      // Killed (or the runtime is shutting down) before the body finished.
      if (parked_ && cancel_ != nullptr)
        (void)cancel_(cancel_ctx_);
      cancel_ = nullptr;
      if (sleep_ != nullptr)
        env_->rt().timers().cancel(*sleep_);
      sleep_.reset(); // an unfired entry releases its reference
      body_->abandon();
      body_.reset();
      finish_accounting();
      report(error{errc::killed, "goroutine killed before its body finished",
                   goroutine_name()});
    }
    keep_alive_.reset();
  }

  // -- parker interface -------------------------------------------------------

  void unpark() noexcept override {
    wakes_.fetch_add(1, std::memory_order_relaxed);
    asleep_.store(false, std::memory_order_release);
    auto ctrl_ptr = ctrl();
    if (getf(is_detached_flag)) {
      // A detached actor runs on its private thread: wake it by message.
      enqueue(nullptr, caf::make_message_id(), wake_message(), current_eu());
    } else {
      wake_pending_.store(true, std::memory_order_seq_cst);
      if (mailbox().try_unblock()) {
        // We moved the idle actor out of "blocked": schedule it, holding the
        // reference the scheduler releases after the run.
        caf::intrusive_ptr_add_ref(ctrl_ptr);
        if (auto eu = current_eu())
          eu->exec_later(this);
        else
          home_system().scheduler().enqueue(this);
      }
    }
    caf::intrusive_ptr_release(ctrl_ptr);
  }

  resumable::resume_result resume(caf::execution_unit* eu,
                                  size_t max_throughput) override {
    if (getf(is_detached_flag))
      return caf::event_based_actor::resume(eu, max_throughput);
    for (size_t round = 0;; ++round) {
      if (getf(is_initialized_flag)
          && wake_pending_.exchange(false, std::memory_order_seq_cst)) {
        if (!activate(eu))
          return resumable::done;
        (void)resume_body();
        if (finalize())
          return resumable::done;
        if (std::exchange(yielded_, false))
          return resumable::resume_later; // wake_pending_ is still set
      }
      resumable::resume_result result;
      // CAF runs make_behavior (our first run) and any real messages.
      if (getf(is_initialized_flag) && mailbox().try_block())
        result = resumable::awaiting_message;
      else
        result = caf::event_based_actor::resume(eu, max_throughput);
      if (result != resumable::awaiting_message)
        return result;
      // A waker may have set wake_pending_ after we looked but before we
      // blocked the mailbox: then one of us unblocks it, and only one wins.
      if (!wake_pending_.load(std::memory_order_seq_cst)
          || !mailbox().try_unblock())
        return result;
      if (std::exchange(yielded_, false) || round >= max_throughput) {
        // Let others run; the worker re-queues us and we come back here.
        return resumable::resume_later;
      }
    }
  }

  void retain() noexcept override {
    caf::intrusive_ptr_add_ref(ctrl());
  }

  // -- parking ----------------------------------------------------------------

  parker* park(std::coroutine_handle<> h, cancel_fn fn, void* ctx) {
    resume_point_ = h;
    cancel_ = fn;
    cancel_ctx_ = ctx;
    parked_ = true;
    asleep_.store(true, std::memory_order_release);
    return this;
  }

  void unpark_self() noexcept {
    // The awaiter finished without suspending after all.
    resume_point_ = nullptr;
    cancel_ = nullptr;
    parked_ = false;
    asleep_.store(false, std::memory_order_release);
  }

  /// True while parked on a channel with no wake sent (for the idle check).
  bool asleep() const noexcept {
    return asleep_.load(std::memory_order_acquire);
  }

  /// How often this goroutine was woken (for the idle check).
  uint64_t wakes() const noexcept {
    return wakes_.load(std::memory_order_relaxed);
  }

  /// Suspends at `h` for `delay` (sleep) or, for a non-positive delay, until
  /// the worker ran what was queued before it (yield).
  void pause(std::coroutine_handle<> h, std::chrono::nanoseconds delay) {
    resume_point_ = h;
    if (delay.count() <= 0) {
      if (getf(is_detached_flag)) {
        // A detached actor runs on its private thread: wake it by message.
        enqueue(nullptr, caf::make_message_id(), wake_message(), nullptr);
        return;
      }
      yielded_ = true;
      wake_pending_.store(true, std::memory_order_seq_cst);
      return;
    }
    auto when = timer_service::deadline_after(delay);
    retain(); // owned by the entry
    auto entry = std::make_shared<sleep_entry>(this, ctrl());
    // Refused only while shutting down: then the kill wakes us, and the
    // unfired entry releases its reference.
    if (env_->rt().timers().schedule(entry, when))
      sleep_ = std::move(entry);
  }

  goroutine_env& env() noexcept {
    return *env_;
  }

  /// True while the body runs on a thread (for the shutdown report).
  bool running() const noexcept {
    return running_.load(std::memory_order_relaxed);
  }

  /// "name (spawned at file:line)".
  std::string describe() const {
    auto result = goroutine_name();
    if (file_ != nullptr)
      result += " (spawned at " + std::string{file_} + ":"
                + std::to_string(line_) + ")";
    else
      result += " (spawned inside a goroutine)";
    return result;
  }

  bool detached() const noexcept {
    return getf(is_detached_flag);
  }

  std::string goroutine_name() const {
    if (!name_.empty())
      return name_;
    auto result = "goroutine-" + std::to_string(id());
    if (generation_ > 0)
      result += "." + std::to_string(generation_);
    return result;
  }

  /// Runs a new goroutine (a pending one's body) on this pooled actor, from
  /// worker `eu` (goroutine_env::pool_get returned us there).
  void rebind(std::unique_ptr<body_base> body, std::string name,
              const char* file, unsigned line, caf::execution_unit* eu,
              size_t max_throughput) {
    body_ = std::move(body);
    name_ = std::move(name);
    file_ = file;
    line_ = line;
    env_->bind_pending(this);
    start_pending_ = true;
    // As unpark: whoever moves the mailbox out of "blocked" schedules us; if
    // our previous run is still in resume(), it sees the flag and goes on.
    wake_pending_.store(true, std::memory_order_seq_cst);
    if (mailbox().try_unblock())
      run_now(eu, max_throughput);
  }

  /// Starts a goroutine actor spawned with caf::lazy_init (its mailbox is
  /// blocked, nothing scheduled it) on worker `eu` right now.
  void start_now(caf::execution_unit* eu, size_t max_throughput) {
    if (mailbox().try_unblock())
      run_now(eu, max_throughput);
  }

  static caf::execution_unit* current_eu() noexcept {
    return tl_current != nullptr ? tl_current->context() : nullptr;
  }

private:
  /// Runs the actor now on worker `eu`, nested in the resume of the pending
  /// record that starts it, instead of a second trip through the worker's
  /// next slot. The record is no actor, so nothing of CAF is active on this
  /// thread meanwhile. The caller moved the mailbox out of "blocked" (it owns
  /// the run, as a scheduler would). Only resume_later needs the scheduler:
  /// then the actor is queued on `eu` like a wake.
  void run_now(caf::execution_unit* eu, size_t max_throughput) {
    caf::strong_actor_ptr guard{ctrl()}; // as the scheduler's reference
    if (resume(eu, max_throughput) == resumable::resume_later) {
      caf::intrusive_ptr_add_ref(ctrl());
      eu->exec_later(this);
    }
  }

  /// Starts the body. Returns false if it finished and the actor quit (not
  /// pooled); true while it runs, is parked or went to the pool.
  bool run_first() {
    tl_current = this;
    running_.store(true, std::memory_order_relaxed);
    auto h = body_->start();
    running_.store(false, std::memory_order_relaxed);
    tl_current = nullptr;
    if (!h)
      return finish();
    top_ = h;
    resume_point_ = h;
    return resume_body();
  }

  /// Resumes the body where it parked (or starts a rebound one). Returns
  /// false if the actor quit: its body finished (and it was not pooled), or
  /// the runtime was canceled before a rebound body started.
  bool resume_body() {
    if (body_ == nullptr)
      return true;
    if (std::exchange(start_pending_, false)) {
      // A new goroutine on this reused actor. As in make_behavior: if the
      // runtime was canceled meanwhile (its cancel may have scanned the live
      // registry before rebind linked us), never run; on_exit uncounts it.
      if (!env_->canceled())
        return run_first();
      quit(caf::exit_reason::user_shutdown);
      return false;
    }
    parked_ = false;
    cancel_ = nullptr;
    sleep_.reset();
    auto h = std::exchange(resume_point_, nullptr);
    auto prev = std::exchange(tl_current, this);
    running_.store(true, std::memory_order_relaxed);
    h.resume();
    running_.store(false, std::memory_order_relaxed);
    tl_current = prev;
    if (top_.done())
      return finish();
    return true;
  }

  /// Ends the body. Returns true if the actor went back to the pool: then
  /// another worker may rebind it at once, and the caller touches no field
  /// any more (only the resume loop's flags and the mailbox). Returns false
  /// if it quit.
  bool finish() {
    auto err = body_->outcome();
    body_.reset();
    finish_accounting();
    report(err);
    if (reusable_ && recycle())
      return true;
    keep_alive_.reset();
    // The exit reason carries the outcome to monitors (supervisors).
    quit(to_caf_error(err));
    return false;
  }

  /// Clears what the finished goroutine left and offers the actor to the
  /// pool.
  bool recycle() noexcept {
    name_.clear();
    file_ = nullptr;
    line_ = 0;
    sleep_.reset();
    yielded_ = false;
    top_ = nullptr;
    resume_point_ = nullptr;
    cancel_ = nullptr;
    cancel_ctx_ = nullptr;
    parked_ = false;
    asleep_.store(false, std::memory_order_relaxed);
    ++generation_;
    return env_->pool_put(this);
  }

  void finish_accounting() {
    env_->remove(this);
    env_->rt().work_finished();
  }

  void report(const error& err) {
    if (hook_) {
      auto hook = std::move(hook_);
      hook_ = nullptr;
      hook(err ? err.with_origin(goroutine_name()) : err);
    } else if (err && err.code() != errc::killed) {
      std::fprintf(stderr, "rotina: %s: %s\n", goroutine_name().c_str(),
                   err.message().c_str());
    }
  }

  std::shared_ptr<goroutine_env> env_;
  std::unique_ptr<body_base> body_;
  std::string name_;
  const char* file_;
  unsigned line_;
  exit_hook hook_;
  std::shared_ptr<sleep_entry> sleep_;
  bool yielded_ = false;
  std::atomic<bool> running_{false};
  caf::strong_actor_ptr keep_alive_;
  std::coroutine_handle<> top_;
  std::coroutine_handle<> resume_point_;
  cancel_fn cancel_ = nullptr;
  void* cancel_ctx_ = nullptr;
  bool parked_ = false;
  std::atomic<bool> asleep_{false};
  std::atomic<bool> wake_pending_{false};
  /// Set by rebind before its wake: resume_body starts the new body.
  bool start_pending_ = false;
  /// Made for a pending goroutine: may be pooled when its body finished.
  const bool reusable_;
  /// How many goroutines ran on this actor before the current one.
  uint32_t generation_ = 0;

public:
  // Links in goroutine_env's live registry (guarded by the shard's lock).
  goroutine_actor* live_prev_ = nullptr;
  goroutine_actor* live_next_ = nullptr;
  std::atomic<uint64_t> wakes_{0};
};

} // namespace rotina::detail
