// go(), the goroutine-local free functions (park_current, current_runtime,
// ...) and the spawn path. The goroutine actor itself and its invariants are
// in goroutine_actor.hpp; the per-runtime registry in goroutine_env.cpp.
#include "rotina/goroutine.hpp"
#include "rotina/error.hpp"

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "goroutine_actor.hpp"

namespace rotina::detail {

thread_local goroutine_actor* tl_current = nullptr;

const caf::message& wake_message() {
  static const caf::message msg = caf::make_message(wake_atom::value);
  return msg;
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
  if (tl_current != nullptr && &tl_current->env().rt() == rt) {
    // Inside a goroutine of rt: its workers (and so its system) outlive us.
    auto env = tl_current->env().shared_from_this();
    rt->work_started();
    if (opts.blocking)
      return tl_current->spawn<goroutine_actor, caf::detached>(
        std::move(env), std::move(b), std::move(opts), std::move(on_exit));
    return tl_current->spawn<goroutine_actor>(
      std::move(env), std::move(b), std::move(opts), std::move(on_exit));
  }
  // From a plain thread (or another runtime): enter rt, so that shutdown()
  // cannot destroy the system under us, and fail clearly once it cancels.
  if (!rt->enter())
    throw panic_error{error{errc::misuse,
                            "rotina::go: the runtime is shutting down (go "
                            "after shutdown() started)"}};
  struct leave_guard {
    runtime* rt;
    ~leave_guard() {
      rt->leave();
    }
  } guard{rt};
  auto env = goroutine_env::of(*rt).shared_from_this();
  rt->work_started();
  auto& sys = rt->system();
  if (opts.blocking)
    return sys.spawn<goroutine_actor, caf::detached>(
      std::move(env), std::move(b), std::move(opts), std::move(on_exit));
  return sys.spawn<goroutine_actor>(std::move(env), std::move(b),
                                    std::move(opts), std::move(on_exit));
}

namespace {

/// A goroutine that is queued but has not run yet, like Go's new g on a run
/// queue: it holds the body and the options (about 130 bytes for a small
/// closure: 64 for the record, 64 for the body) instead of a whole CAF actor
/// (about 1.2 KB). A goroutine that spawns children faster than the workers
/// run them queues these small records (issue 10: peak RSS of 10^6 spawns). The
/// worker that runs the record gives the goroutine an actor there (a pooled
/// one, or a new one spawned with that worker as host), runs it at once, nested
/// in the record's own resume, and then the record is freed.
///
/// Invariants:
/// - From construction until resume() spawned the actor or the destructor
///   dropped it, the record counts as one live goroutine
///   (goroutine_env::add_pending: num_goroutine, the idle check), one unit of
///   live work (runtime::work_started: shutdown=wait) and one running actor
///   of CAF's registry (inc_running: shutdown's bounded wait for all actors,
///   which then also names it in its report).
/// - Exactly one of the two happens: resume() spawns the actor, which takes
///   the live goroutine and the live work over (goroutine_env::bind_pending,
///   its finish or kill ends both); or the destructor drops the body unrun
///   and uncounts it (the runtime was canceled first, or the scheduler's stop
///   released the record without running it).
class pending_goroutine final : public caf::resumable {
public:
  pending_goroutine(goroutine_env& env, std::unique_ptr<body_base> b,
                    go_options opts)
    : env_(&env), body_(std::move(b)), file_(opts.file), line_(opts.line) {
    if (!opts.name.empty())
      name_ = std::make_unique<std::string>(std::move(opts.name));
    env.add_pending();
    env.rt().work_started();
    env.rt().system().registry().inc_running();
  }

  ~pending_goroutine() override {
    if (body_ != nullptr) {
      body_.reset();
      env_->drop_pending();
      env_->rt().work_finished();
    }
    env_->rt().system().registry().dec_running();
  }

  resume_result resume(caf::execution_unit* eu,
                       size_t max_throughput) override {
    if (env_->canceled())
      return resumable::done; // dropped by the destructor
    if (auto g = env_->pool_get()) {
      g->rebind(std::move(body_), name_ != nullptr ? std::move(*name_) : "",
                file_, line_, eu, max_throughput);
      return resumable::done;
    }
    {
      go_options opts;
      if (name_ != nullptr)
        opts.name = std::move(*name_);
      opts.file = file_;
      opts.line = line_;
      caf::actor_config cfg{eu};
      // lazy_init: CAF blocks the new mailbox instead of scheduling it; it
      // runs here at once (start_now).
      auto h = env_->rt().system().spawn_class<goroutine_actor, caf::lazy_init>(
        cfg, env_->shared_from_this(), std::move(body_), std::move(opts),
        exit_hook{}, true);
      auto g = static_cast<goroutine_actor*>(
        caf::actor_cast<caf::abstract_actor*>(h));
      g->start_now(eu, max_throughput);
    }
    return resumable::done; // the worker releases us
  }

  // The scheduler holds the one reference (from exec_later/enqueue until it
  // releases us after resume or at stop); nothing else refers to a record.
  void intrusive_ptr_add_ref_impl() override {
    refs_.fetch_add(1, std::memory_order_relaxed);
  }

  void intrusive_ptr_release_impl() override {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete this;
  }

private:
  std::atomic<uint32_t> refs_{1};
  goroutine_env* env_; // outlives the actor system (a runtime extension)
  std::unique_ptr<body_base> body_;
  // go_options, packed: a record is 64 bytes (go_options' std::string alone
  // would add 32 to every queued goroutine; few have a name).
  const char* file_;
  unsigned line_;
  std::unique_ptr<std::string> name_;
};

} // namespace

void start_goroutine(runtime* rt, std::unique_ptr<body_base> b,
                     go_options opts) {
  auto self = tl_current;
  if (self != nullptr && &self->env().rt() == rt && !opts.blocking
      && !self->detached()) {
    // On a worker, inside a goroutine of rt: queue a pending record on this
    // worker (its actor is made when a worker runs it).
    self->context()->exec_later(
      new pending_goroutine(self->env(), std::move(b), std::move(opts)));
    return;
  }
  spawn_goroutine(rt, std::move(b), std::move(opts));
}

size_t num_goroutine_impl(runtime& rt) noexcept {
  auto env = goroutine_env::find(rt);
  return env != nullptr ? env->live() : 0;
}

runtime* current_runtime() noexcept {
  return tl_current != nullptr ? &tl_current->env().rt() : nullptr;
}

runtime& require_current_runtime(const char* what) {
  if (tl_current == nullptr)
    throw panic_error{
      error{errc::misuse, std::string{what}
                            + ": not called from a goroutine; pass the "
                              "runtime"}};
  return tl_current->env().rt();
}

parker* park_current(std::coroutine_handle<> h, cancel_fn on_cancel,
                     void* ctx) {
  if (tl_current == nullptr)
    throw panic_error{error{errc::misuse,
                            "rotina: a blocking channel operation was awaited "
                            "outside a goroutine"}};
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
    throw panic_error{
      error{errc::misuse, "rotina::sleep/yield awaited outside a goroutine"}};
  detail::tl_current->pause(h, delay_);
}

} // namespace rotina
