// rotina::go_on: a goroutine started on another node by name
// (docs/distribution.md, "Remote goroutines"). Code cannot travel, names can:
// every node that may run "resize" registers it at start-up with
// register_goroutine("resize", resize), and go_on(rt, node, "resize", args...)
// runs one there, its arguments crossing by value (channel handles as working
// remote channels). Opt-in header: it brings <rotina/remote.hpp> and CAF.
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <caf/message.hpp>

#include "rotina/detail/park.hpp"
#include "rotina/errgroup.hpp"
#include "rotina/error.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/node.hpp"
#include "rotina/remote.hpp"
#include "rotina/runtime.hpp"
#include "rotina/task.hpp"
#include "rotina/wait_group.hpp"

namespace rotina {

namespace detail {

// -- registration
// ---------------------------------------------------------------

/// Builds a goroutine body from the arguments of a go_on request (already
/// checked: one element per argument, of the wire types). Throws panic_error
/// when an argument cannot be converted (e.g. a channel of another type).
using go_on_factory
  = std::function<std::unique_ptr<body_base>(runtime&, caf::message&)>;

/// Adds `name` to the process-wide table of goroutines that other nodes may
/// start here. Throws panic_error (errc::misuse) on an empty name, a name
/// taken, or an argument type that cannot cross nodes (`bad_arg` >= 0 names
/// its position).
void register_goroutine_impl(std::string name,
                             std::vector<std::string> arg_types,
                             go_on_factory make, int bad_arg,
                             const char* bad_type);

/// The call signature of a goroutine function: its decayed argument types.
template <class... Ts>
struct go_on_args {};

template <class T>
struct go_on_signature : go_on_signature<decltype(&T::operator())> {};

template <class R, class... Ts>
struct go_on_signature<R (*)(Ts...)> {
  using args = go_on_args<std::decay_t<Ts>...>;
};

template <class R, class... Ts>
struct go_on_signature<R(Ts...)> : go_on_signature<R (*)(Ts...)> {};

template <class C, class R, class... Ts>
struct go_on_signature<R (C::*)(Ts...) const> : go_on_signature<R (*)(Ts...)> {
};

template <class C, class R, class... Ts>
struct go_on_signature<R (C::*)(Ts...)> : go_on_signature<R (*)(Ts...)> {};

/// The type an argument of go_on crosses as: its decayed type, with C
/// strings as std::string.
template <class T>
using go_on_arg_t = std::conditional_t<
  std::is_same_v<std::decay_t<T>,
                 const char*> || std::is_same_v<std::decay_t<T>, char*>,
  std::string, std::decay_t<T>>;

/// The wire names of Ts, and the position of the first that cannot cross
/// (-1 if all can).
template <class... Ts>
std::vector<std::string> go_on_type_names(int& bad, const char*& bad_type) {
  std::vector<std::string> names{wire_type_name<Ts>::get()...};
  const char* types[] = {typeid(Ts).name()..., nullptr};
  bad = -1;
  bad_type = nullptr;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) {
      bad = static_cast<int>(i);
      bad_type = types[i];
      break;
    }
  return names;
}

template <class F, class... Ts, size_t... Is>
std::unique_ptr<body_base> make_go_on_body(const F& f, runtime& rt,
                                           caf::message& msg,
                                           std::index_sequence<Is...>) {
  if (!msg.match_elements<wire_t<Ts>...>())
    throw panic_error{
      error{errc::type_mismatch, "the arguments did not arrive as the "
                                 "registered types ("
                                   + caf::to_string(msg) + ")"}};
  return make_body(f, wire_traits<Ts>::from(
                        std::move(msg.get_mutable_as<wire_t<Ts>>(Is)), rt)...);
}

template <class F, class... Ts>
void register_goroutine_as(std::string name, F f, go_on_args<Ts...>) {
  using result_type = std::invoke_result_t<F&, Ts&...>;
  static_assert(
    std::is_same_v<
      result_type,
      task<>> || std::is_same_v<result_type, task<error>> || std::is_same_v<result_type, error> || std::is_same_v<result_type, void>,
    "a registered goroutine returns rotina::task<>, "
    "rotina::task<rotina::error>, rotina::error or void");
  int bad = -1;
  const char* bad_type = nullptr;
  auto names = go_on_type_names<Ts...>(bad, bad_type);
  register_goroutine_impl(
    std::move(name), std::move(names),
    [f](runtime& rt, caf::message& msg) {
      return make_go_on_body<F, Ts...>(f, rt, msg,
                                       std::index_sequence_for<Ts...>{});
    },
    bad, bad_type);
}

// -- the caller's side
// ------------------------------------------------------------

/// One go_on request: where, which goroutine, the wire names of the argument
/// types and the arguments converted for the wire.
struct go_on_call {
  node where;
  std::string name;
  std::vector<std::string> types;
  caf::message args;
};

/// Throws panic_error (errc::misuse) naming argument `bad` of go_on `name`.
[[noreturn]] void throw_bad_go_on_arg(const std::string& name, int bad,
                                      const char* type);

template <class... Args>
go_on_call make_go_on_call(runtime& rt, const node& where, std::string name,
                           Args&&... args) {
  int bad = -1;
  const char* bad_type = nullptr;
  go_on_call call;
  call.types = go_on_type_names<go_on_arg_t<Args>...>(bad, bad_type);
  if (bad >= 0)
    throw_bad_go_on_arg(name, bad, bad_type);
  call.where = where;
  call.name = std::move(name);
  call.args = caf::make_message(wire_traits<go_on_arg_t<Args>>::to(
    go_on_arg_t<Args>(std::forward<Args>(args)), rt)...);
  return call;
}

/// The caller's record of one remote goroutine: completed exactly once, with
/// the body's outcome, the spawn refusal, or node_down.
class remote_call {
public:
  remote_call(node where, std::string name)
    : where_(std::move(where)), name_(std::move(name)) {
    // nop
  }

  /// Records `outcome` and wakes every waiter, unless already completed;
  /// then cancels the node watch (unless `from_watch`: the watch itself
  /// completes it) and ends the watcher actor. Returns whether this call
  /// completed it.
  bool complete(error outcome, bool from_watch = false);

  bool done();

  error outcome();

  bool wait_goroutine(waiter* w, std::coroutine_handle<> h, cancel_fn fn,
                      void* ctx);

  void wait_thread() noexcept;

  bool withdraw(waiter* w) noexcept;

  const node& where() const noexcept {
    return where_;
  }

  const std::string& name() const noexcept {
    return name_;
  }

  /// The watch registered for the node, canceled at completion (at once if
  /// completed already).
  void set_watch(runtime* rt, node_watch token);

  /// The actor that receives the outcome, ended at completion (at once if
  /// completed already).
  void set_watcher(caf::actor watcher);

  /// Runs once after completion (set before the call is sent).
  void set_on_complete(std::function<void()> fn) {
    on_complete_ = std::move(fn);
  }

private:
  std::mutex mtx_;
  bool done_ = false;
  error outcome_;
  wait_list waiters_;
  node where_;
  std::string name_;
  runtime* rt_ = nullptr;
  node_watch watch_ = 0;
  caf::actor watcher_;
  std::function<void()> on_complete_;
};

/// The awaiter of remote_goroutine::wait (not an aggregate: g++ 12).
class [[nodiscard]] remote_wait {
public:
  explicit remote_wait(std::shared_ptr<remote_call> st) noexcept
    : st_(std::move(st)) {
    // nop
  }

  remote_wait(const remote_wait&) = delete;
  remote_wait& operator=(const remote_wait&) = delete;

  bool await_ready() const noexcept {
    return false;
  }

  bool await_suspend(std::coroutine_handle<> h) {
    return st_->wait_goroutine(&w_, h, &cancel, this);
  }

  error await_resume() const {
    return st_->outcome();
  }

private:
  static bool cancel(void* ptr) noexcept {
    auto self = static_cast<remote_wait*>(ptr);
    return self->st_->withdraw(&self->w_);
  }

  std::shared_ptr<remote_call> st_;
  waiter w_;
};

/// Sends `call` and returns its record (never blocks).
std::shared_ptr<remote_call> go_on_impl(runtime& rt, go_on_call call);

/// The body wait_group::go_on and errgroup::go_on run locally: starts the
/// call and returns its outcome.
task<error> run_go_on(go_on_call call);

} // namespace detail

// -- registration
// -----------------------------------------------------------------

/// register_goroutine makes `fn` startable from other nodes as `name`
/// (go_on). There is no Go counterpart: Go's `go` never leaves the process.
/// `fn` is a function or a stateless callable (a lambda without captures)
/// taking its arguments by value (or const reference) and returning
/// task<>, task<error>, error or void, like a body of go() or errgroup::go.
/// Every argument type must cross nodes: a CAF built-in type (integers,
/// std::string, ...), a type registered with register_type, or a channel
/// handle over such a type (it arrives as a working remote channel).
///
/// Call it at start-up, before creating the runtime, on every node that may
/// run `name`: the table is process-wide and each runtime created afterwards
/// serves it to its peers. Throws panic_error (errc::misuse) on an empty or
/// taken name, or an argument type that cannot cross nodes.
template <class F>
void register_goroutine(std::string name, F fn) {
  if constexpr (std::is_function_v<std::remove_pointer_t<F>>) {
    using sig = detail::go_on_signature<std::remove_pointer_t<F>>;
    detail::register_goroutine_as(std::move(name), fn, typename sig::args{});
  } else {
    static_assert(std::is_empty_v<F>,
                  "register_goroutine takes a function or a stateless "
                  "callable (state cannot cross nodes: pass it as an "
                  "argument)");
    using sig = detail::go_on_signature<F>;
    detail::register_goroutine_as(std::move(name), fn, typename sig::args{});
  }
}

/// Returns the names registered with register_goroutine, sorted, each with
/// its argument types: "add(@i64, @i64, chan<@i64>)".
std::vector<std::string> registered_goroutines();

// -- remote goroutines
// ------------------------------------------------------------

/// remote_goroutine is the caller's handle of a goroutine started with go_on:
/// wait for it, read how it ended. Copies refer to the same goroutine.
class remote_goroutine {
public:
  explicit remote_goroutine(std::shared_ptr<detail::remote_call> st) noexcept
    : st_(std::move(st)) {
    // nop
  }

  /// wait, in a goroutine: `error e = co_await h.wait();` parks until the
  /// remote goroutine ended and returns its outcome: empty when the body
  /// returned normally; the body's error or its escaped exception
  /// (errc::panic) with origin `"name" on node 'b'`; the refusal of the
  /// spawn (errc::not_found: the node has no goroutine of that name, or
  /// registers none; errc::type_mismatch: it takes other argument types,
  /// both lists named); errc::node_down when the node was lost before the
  /// body ended (within the failure-detection bound) or did not answer the
  /// spawn within rotina.request-timeout; errc::killed when the body's node
  /// or this runtime shut down first.
  detail::remote_wait wait() const {
    return detail::remote_wait{st_};
  }

  /// wait for a plain thread (blocks it). Aborts on a scheduler worker.
  error wait_blocking() const {
    st_->wait_thread();
    return st_->outcome();
  }

  /// Whether the outcome is known.
  bool done() const {
    return st_->done();
  }

  /// The node the goroutine runs on.
  const node& where() const noexcept {
    return st_->where();
  }

  /// The registered name.
  const std::string& name() const noexcept {
    return st_->name();
  }

private:
  std::shared_ptr<detail::remote_call> st_;
};

/// go_on starts the goroutine registered as `name` on node `where` with
/// `args`, like Go's `go name(args...)` on another machine. The arguments
/// are converted now (copied or moved; channel handles become remote
/// handles, C strings std::string); go_on never blocks: the spawn request
/// (bounded by rotina.request-timeout) and the body run while the caller
/// goes on, and the returned handle tells how it ended (see
/// remote_goroutine::wait). Starting on this node itself works too (through
/// the same table).
///
/// The argument types must equal the registered ones exactly (as Go's call
/// rules without untyped constants: pass int64_t to a goroutine taking
/// int64_t, not 1); a difference is the goroutine's outcome, an error of
/// errc::type_mismatch naming the node, the goroutine and both type lists.
/// Throws panic_error (errc::misuse) here if an argument cannot cross nodes.
///
/// Deviation from Go: a remote body sees no context of the caller (contexts
/// do not cross nodes yet) and is not stopped when its caller ends.
template <class... Args>
remote_goroutine go_on(runtime& rt, const node& where, std::string name,
                       Args&&... args) {
  return remote_goroutine{detail::go_on_impl(
    rt, detail::make_go_on_call(rt, where, std::move(name),
                                std::forward<Args>(args)...))};
}

/// go_on from inside a goroutine: uses the caller's runtime. Throws
/// panic_error (errc::misuse) outside a goroutine.
template <class... Args>
remote_goroutine go_on(const node& where, std::string name, Args&&... args) {
  auto& rt = detail::require_current_runtime("rotina::go_on");
  return go_on(rt, where, std::move(name), std::forward<Args>(args)...);
}

// -- placement
// --------------------------------------------------------------------

/// place returns the node the next remote goroutine should go to, by
/// rotina.placement: "round-robin" (default) cycles through the connected
/// peers (runtime::nodes(), sorted by name) in turn, so N calls over k nodes
/// give each N/k; "least-loaded" picks the peer with the lowest load
/// there: the larger of what its spawner reported last (its live
/// goroutines) and this node's calls there that have not ended, plus the
/// placements not started yet. A node that joins or leaves changes placement
/// from the next call. Returns this node when no peer is connected. Never
/// blocks on the network.
node place(runtime& rt);

/// The load placement assumes for `peer` (see place); 0 if unknown.
uint64_t reported_load(runtime& rt, const node& peer);

// -- supervisors across nodes
// --------------------------------------------------------

template <class... Args>
void errgroup::go_on(const node& where, std::string name,
                     Args&&... args) const {
  auto& rt = st()->runtime_for("go_on");
  go(&detail::run_go_on, detail::make_go_on_call(rt, where, std::move(name),
                                                 std::forward<Args>(args)...));
}

template <class... Args>
bool errgroup::try_go_on(const node& where, std::string name,
                         Args&&... args) const {
  auto& rt = st()->runtime_for("try_go_on");
  return try_go(&detail::run_go_on,
                detail::make_go_on_call(rt, where, std::move(name),
                                        std::forward<Args>(args)...));
}

template <class... Args>
void wait_group::go_on(const node& where, std::string name,
                       Args&&... args) const {
  auto& rt = st_->runtime_for("go_on");
  detail::go_options opts;
  opts.name = "go_on \"" + name + "\" on node '" + where.name + "'";
  st_->go(detail::make_body(&detail::run_go_on, detail::make_go_on_call(
                                                  rt, where, std::move(name),
                                                  std::forward<Args>(args)...)),
          std::move(opts));
}

} // namespace rotina
