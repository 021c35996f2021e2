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
