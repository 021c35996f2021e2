// The goroutine actor: a CAF event-based actor that runs one coroutine body.
//
// Invariants:
// - A goroutine actor holds a strong reference to itself (keep_alive_) from
//   its first run until its body finished or it was killed, so CAF never ends
//   it for lack of references while it is parked.
// - The body (callable, arguments, coroutine frame) lives in the actor until
//   the body finished or the actor exited.
// - The coroutine runs only inside the actor's handlers: at start, and on a
//   wake message. Every park (park_current) is matched by exactly one
//   unpark, which sends exactly one wake message; a sleep or yield sends its
//   own delayed wake message. So a wake message always finds the coroutine
//   suspended at resume_point_.
// - Live-work accounting (runtime::work_started/finished): a goroutine counts
//   while it is runnable; park_current uncounts it, unpark counts it again
//   before the wake message is sent; its end uncounts it.
#include "rotina/goroutine.hpp"

#include <cstdio>
#include <stdexcept>
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
    : caf::event_based_actor(cfg),
      env_(std::move(env)),
      body_(std::move(body)),
      name_(std::move(name)),
      hook_(std::move(hook)) {
    // nop
  }

  // -- actor interface --------------------------------------------------------

  caf::behavior make_behavior() override {
    keep_alive_ = ctrl();
    env_->add(this);
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
      bool counted = !parked_;
      if (parked_ && cancel_ != nullptr && cancel_(cancel_ctx_))
        counted = true; // a waker counted us again before we could run
      cancel_ = nullptr;
      body_->abandon();
      body_.reset();
      finish_accounting(counted);
      report(error{errc::killed, "goroutine killed before its body finished",
                   goroutine_name()});
    }
    keep_alive_.reset();
  }

  // -- parker interface -------------------------------------------------------

  void unpark() noexcept override {
    env_->rt().work_started();
    auto ctrl_ptr = ctrl();
    enqueue(nullptr, caf::make_message_id(), wake_message(), current_eu());
    caf::intrusive_ptr_release(ctrl_ptr);
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
    env_->rt().work_finished();
    return this;
  }

  void unpark_self() noexcept {
    // The awaiter finished without suspending after all.
    resume_point_ = nullptr;
    cancel_ = nullptr;
    parked_ = false;
    env_->rt().work_started();
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
    finish_accounting(true);
    report(err);
    keep_alive_.reset();
    // The exit reason carries the outcome to monitors (supervisors).
    quit(to_caf_error(err));
  }

  void finish_accounting(bool counted) {
    env_->remove(this);
    if (counted)
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
};

// -- goroutine_env ------------------------------------------------------------

namespace {

std::mutex envs_mtx;
std::unordered_map<runtime*, std::shared_ptr<goroutine_env>> envs;

caf::behavior timer_actor(caf::event_based_actor* self,
                          std::weak_ptr<goroutine_env> wenv) {
  return {
    [self, wenv](fire_atom, timer_msg& msg) {
      auto again = msg.job->fire();
      if (again.count() >= 0) {
        self->delayed_send(self, again, fire_atom::value, std::move(msg));
      } else if (auto env = wenv.lock()) {
        env->rt().work_finished();
      }
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
  std::lock_guard<std::mutex> guard{mtx_};
  live_.insert(g);
}

void goroutine_env::remove(goroutine_actor* g) {
  std::lock_guard<std::mutex> guard{mtx_};
  live_.erase(g);
}

void goroutine_env::schedule(std::shared_ptr<timer_job> job,
                             std::chrono::nanoseconds delay) {
  caf::actor timers;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (canceled_)
      return;
    if (!timers_)
      timers_ = sys_->spawn<caf::hidden>(timer_actor, weak_from_this());
    timers = timers_;
  }
  rt_->work_started();
  if (delay.count() < 0)
    delay = std::chrono::nanoseconds{0};
  caf::delayed_anon_send(timers, delay, fire_atom::value,
                         timer_msg{std::move(job)});
}

void goroutine_env::cancel_all() {
  std::vector<caf::actor> victims;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    canceled_ = true;
    victims.reserve(live_.size() + 1);
    for (auto g : live_)
      victims.emplace_back(caf::actor_cast<caf::actor>(g));
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
    return tl_current->spawn<goroutine_actor>(std::move(env), std::move(b),
                                              std::move(opts.name),
                                              std::move(on_exit));
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
