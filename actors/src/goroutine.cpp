// The goroutine actor: a CAF event-based actor that runs one coroutine body.
//
// Invariants:
// - A goroutine actor holds a strong reference to itself (keep_alive_) from
//   its first run until its body finished or it was killed, so CAF never ends
//   it for lack of references while it is parked.
// - The body (callable, arguments, coroutine frame) lives in the actor until
//   the body finished or the actor exited.
// - The coroutine runs only on the actor, never concurrently with its
//   message handlers: at start (make_behavior), on a wake message (sleep,
//   yield, detached goroutines), or from resume() when wake_pending_ is set.
// - Every park (park_current) is matched by exactly one unpark; a sleep or
//   yield by exactly one delayed wake message. So a wake always finds the
//   coroutine suspended at resume_point_.
// - Fast wake (unpark of a scheduled goroutine): the waker sets wake_pending_
//   and then tries to move the mailbox from blocked to empty; whoever wins
//   that transition (the waker, or the actor re-checking wake_pending_ after
//   it blocked its mailbox) makes sure the actor runs once more. Both sides
//   use sequentially consistent operations (store/CAS vs CAS/load), so a wake
//   is never lost and the actor is never scheduled twice. No CAF message is
//   built, matched or dispatched for a channel wake.
// - Live-work accounting: a goroutine counts as live work of its runtime
//   (runtime::work_started/finished) from spawn until its body finished or it
//   was killed; a pending timer counts too. Parking touches no shared
//   counter: the runtime's idle check (goroutine_env::idle) instead scans for
//   "every live goroutine parked, no timer pending, no wake in between",
//   Go's "all goroutines are asleep".
#include "rotina/goroutine.hpp"

#include <cstdio>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>

#include "rotina/detail/goroutine_env.hpp"
#include "rotina/detail/park.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

using wake_atom = caf::atom_constant<caf::atom("rt_wake")>;
using fire_atom = caf::atom_constant<caf::atom("rt_fire")>;

/// The message that carries a timer job to the timer actor.
struct timer_msg {
  std::shared_ptr<timer_job> job;
};

} // namespace rotina::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rotina::detail::timer_msg)

namespace rotina::detail {

namespace {

thread_local goroutine_actor* tl_current = nullptr;

const caf::message& wake_message() {
  static const caf::message msg = caf::make_message(wake_atom::value);
  return msg;
}

} // namespace

class goroutine_actor final : public caf::event_based_actor, public parker {
public:
  goroutine_actor(caf::actor_config& cfg, std::shared_ptr<goroutine_env> env,
                  std::unique_ptr<body_base> body, std::string name,
                  exit_hook hook)
    : caf::event_based_actor(cfg), env_(std::move(env)), body_(std::move(body)),
      name_(std::move(name)), hook_(std::move(hook)) {
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
    run_first();
    if (body_ == nullptr)
      return {}; // the body finished during its first run
    return {
      [this](wake_atom) { resume_body(); },
    };
  }

  void on_exit() override {
    if (body_ != nullptr) {
      // Killed (or the runtime is shutting down) before the body finished.
      if (parked_ && cancel_ != nullptr)
        (void)cancel_(cancel_ctx_);
      cancel_ = nullptr;
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
        resume_body();
        if (finalize())
          return resumable::done;
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
      if (round >= max_throughput) {
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

  /// Suspends at `h` until a delayed wake message arrives (sleep, yield).
  void pause(std::coroutine_handle<> h, std::chrono::nanoseconds delay) {
    resume_point_ = h;
    if (delay.count() < 0)
      delay = std::chrono::nanoseconds{0};
    delayed_send(caf::actor_cast<caf::actor>(this), delay, wake_atom::value);
  }

  goroutine_env& env() noexcept {
    return *env_;
  }

  bool detached() const noexcept {
    return getf(is_detached_flag);
  }

  std::string goroutine_name() const {
    if (!name_.empty())
      return name_;
    return "goroutine-" + std::to_string(id());
  }

  static caf::execution_unit* current_eu() noexcept {
    return tl_current != nullptr ? tl_current->context() : nullptr;
  }

private:
  void run_first() {
    tl_current = this;
    auto h = body_->start();
    tl_current = nullptr;
    if (!h) {
      finish();
      return;
    }
    top_ = h;
    resume_point_ = h;
    resume_body();
  }

  void resume_body() {
    if (body_ == nullptr)
      return;
    parked_ = false;
    cancel_ = nullptr;
    auto h = std::exchange(resume_point_, nullptr);
    auto prev = std::exchange(tl_current, this);
    h.resume();
    tl_current = prev;
    if (top_.done())
      finish();
  }

  void finish() {
    auto err = body_->outcome();
    body_.reset();
    finish_accounting();
    report(err);
    keep_alive_.reset();
    // The exit reason carries the outcome to monitors (supervisors).
    quit(to_caf_error(err));
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
  exit_hook hook_;
  caf::strong_actor_ptr keep_alive_;
  std::coroutine_handle<> top_;
  std::coroutine_handle<> resume_point_;
  cancel_fn cancel_ = nullptr;
  void* cancel_ctx_ = nullptr;
  bool parked_ = false;
  std::atomic<bool> asleep_{false};
  std::atomic<bool> wake_pending_{false};

public:
  // Links in goroutine_env's live registry (guarded by the shard's lock).
  goroutine_actor* live_prev_ = nullptr;
  goroutine_actor* live_next_ = nullptr;
  std::atomic<uint64_t> wakes_{0};
};

// -- goroutine_env ------------------------------------------------------------

namespace {

std::mutex envs_mtx;
std::unordered_map<runtime*, std::shared_ptr<goroutine_env>> envs;

caf::behavior timer_actor(caf::event_based_actor* self,
                          std::weak_ptr<goroutine_env> env) {
  return {
    [self, env](fire_atom, timer_msg& msg) {
      if (env.expired())
        return; // the runtime's goroutine layer is gone
      // A job settles its own live work (see time.cpp).
      auto again = msg.job->fire();
      if (again.count() >= 0)
        self->delayed_send(self, again, fire_atom::value, std::move(msg));
    },
  };
}

} // namespace

goroutine_env::goroutine_env(runtime& rt) : rt_(&rt), sys_(&rt.system()) {
  // nop
}

std::shared_ptr<goroutine_env> goroutine_env::of(runtime& rt) {
  std::lock_guard<std::mutex> guard{envs_mtx};
  auto& env = envs[&rt];
  if (!env) {
    env = std::make_shared<goroutine_env>(rt);
    std::weak_ptr<goroutine_env> weak = env;
    rt.on_idle_check([weak] {
      auto env = weak.lock();
      return env == nullptr || env->idle();
    });
    auto rtp = &rt;
    rt.on_cancel([rtp] {
      std::shared_ptr<goroutine_env> env;
      {
        std::lock_guard<std::mutex> guard{envs_mtx};
        auto i = envs.find(rtp);
        if (i == envs.end())
          return;
        env = std::move(i->second);
        envs.erase(i);
      }
      env->cancel_all();
    });
  }
  return env;
}

void goroutine_env::add(goroutine_actor* g) {
  // Spread by actor id: consecutive spawns land on different shards.
  auto& shard = shards_[g->id() % num_shards];
  std::lock_guard<spinlock> guard{shard.lock};
  g->live_prev_ = nullptr;
  g->live_next_ = shard.head;
  if (shard.head != nullptr)
    shard.head->live_prev_ = g;
  shard.head = g;
}

void goroutine_env::remove(goroutine_actor* g) {
  auto& shard = shards_[g->id() % num_shards];
  std::lock_guard<spinlock> guard{shard.lock};
  if (g->live_prev_ != nullptr)
    g->live_prev_->live_next_ = g->live_next_;
  else
    shard.head = g->live_next_;
  if (g->live_next_ != nullptr)
    g->live_next_->live_prev_ = g->live_prev_;
  g->live_prev_ = g->live_next_ = nullptr;
}

template <class F>
void goroutine_env::for_each_live(F f) {
  for (auto& shard : shards_) {
    std::lock_guard<spinlock> guard{shard.lock};
    for (auto g = shard.head; g != nullptr; g = g->live_next_)
      if (!f(g))
        return;
  }
}

void goroutine_env::schedule(std::shared_ptr<timer_job> job,
                             std::chrono::nanoseconds delay) {
  caf::actor timers;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (canceled())
      return;
    if (!timers_)
      timers_ = sys_->spawn<caf::hidden>(timer_actor, weak_from_this());
    timers = timers_;
  }
  rt_->work_started();
  timers_pending_.fetch_add(1, std::memory_order_acq_rel);
  if (delay.count() < 0)
    delay = std::chrono::nanoseconds{0};
  caf::delayed_anon_send(timers, delay, fire_atom::value,
                         timer_msg{std::move(job)});
}

void goroutine_env::timer_done() {
  timers_pending_.fetch_sub(1, std::memory_order_acq_rel);
  rt_->work_finished();
}

uint64_t goroutine_env::asleep_signature() {
  // Every live goroutine parked and no timer pending: returns the sum of
  // their wake counts plus one; else 0.
  if (timers_pending_.load(std::memory_order_acquire) > 0)
    return 0;
  uint64_t sum = 1;
  bool asleep = true;
  for_each_live([&](goroutine_actor* g) {
    asleep = g->asleep();
    sum += g->wakes();
    return asleep;
  });
  return asleep ? sum : 0;
}

bool goroutine_env::idle() {
  // Two scans that both see everything asleep with no wake in between mean
  // nothing in this runtime can wake anything any more.
  auto first = asleep_signature();
  if (first == 0)
    return false;
  std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return asleep_signature() == first;
}

void goroutine_env::cancel_all() {
  std::vector<caf::actor> victims;
  // Goroutines added after this store see it when they start and quit.
  canceled_.store(true, std::memory_order_seq_cst);
  for_each_live([&](goroutine_actor* g) {
    victims.emplace_back(caf::actor_cast<caf::actor>(g));
    return true;
  });
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (timers_)
      victims.emplace_back(std::move(timers_));
  }
  for (auto& v : victims)
    caf::anon_send_exit(v, caf::exit_reason::user_shutdown);
}

// -- free functions -----------------------------------------------------------

error error_from_exception(std::exception_ptr ex) noexcept {
  try {
    std::rethrow_exception(ex);
  } catch (const panic_error& x) {
    return x.err();
  } catch (const std::exception& x) {
    return error{errc::panic, x.what()};
  } catch (...) {
    return error{errc::panic, "unknown exception"};
  }
}

caf::actor spawn_goroutine(runtime* rt, std::unique_ptr<body_base> b,
                           go_options opts, exit_hook on_exit) {
  std::shared_ptr<goroutine_env> env;
  if (tl_current != nullptr && &tl_current->env().rt() == rt) {
    env = tl_current->env().shared_from_this();
  } else {
    env = goroutine_env::of(*rt);
  }
  rt->work_started();
  if (tl_current != nullptr) {
    if (opts.blocking)
      return tl_current->spawn<goroutine_actor, caf::detached>(
        std::move(env), std::move(b), std::move(opts.name), std::move(on_exit));
    return tl_current->spawn<goroutine_actor>(
      std::move(env), std::move(b), std::move(opts.name), std::move(on_exit));
  }
  auto& sys = rt->system();
  if (opts.blocking)
    return sys.spawn<goroutine_actor, caf::detached>(
      std::move(env), std::move(b), std::move(opts.name), std::move(on_exit));
  return sys.spawn<goroutine_actor>(std::move(env), std::move(b),
                                    std::move(opts.name), std::move(on_exit));
}

runtime* current_runtime() noexcept {
  return tl_current != nullptr ? &tl_current->env().rt() : nullptr;
}

runtime& require_current_runtime(const char* what) {
  if (tl_current == nullptr)
    throw std::logic_error(std::string{what}
                           + ": not called from a goroutine; pass the runtime");
  return tl_current->env().rt();
}

parker* park_current(std::coroutine_handle<> h, cancel_fn on_cancel,
                     void* ctx) {
  if (tl_current == nullptr)
    throw std::logic_error("rotina: a blocking channel operation was awaited "
                           "outside a goroutine");
  return tl_current->park(h, on_cancel, ctx);
}

void unpark_current() noexcept {
  if (tl_current != nullptr)
    tl_current->unpark_self();
}

bool in_goroutine() noexcept {
  return tl_current != nullptr;
}

bool on_scheduler_worker() noexcept {
  return tl_current != nullptr && !tl_current->detached();
}

void thread_parker::unpark() noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  woken_ = true;
  cv_.notify_one();
}

void thread_parker::wait() noexcept {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait(guard, [this] { return woken_; });
}

void throw_panic(errc code) {
  throw panic_error{error{code}};
}

void block_forever() {
  thread_parker never;
  never.wait();
  std::abort();
}

} // namespace rotina::detail

namespace rotina {

void pause_awaiter::await_suspend(std::coroutine_handle<> h) {
  if (detail::tl_current == nullptr)
    throw std::logic_error("rotina::sleep/yield awaited outside a goroutine");
  detail::tl_current->pause(h, delay_);
}

} // namespace rotina
