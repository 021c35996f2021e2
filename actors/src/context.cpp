// context: Go's package context.
//
// Invariants:
// - A node is immutable after construction except for its cancel state
//   (err, cause, children, after-funcs, pin), which only cancelable nodes
//   (with_cancel, with_cancel_cause, with_deadline, with_timeout) have, under
//   their own mtx. Value nodes and background delegate done/err to
//   `canceler`, their nearest cancelable ancestor (null under background).
// - Cancellation flows down only: a cancelable node is registered (weakly) in
//   its canceler-ancestor's `children` until it is canceled or destroyed; a
//   cancel collects the live children under the lock and cancels them after
//   releasing it, with the same err and cause, so a whole subtree is canceled
//   before cancel() returns. A node never touches its parent's state except
//   to (un)register itself.
// - err goes from empty to canceled/deadline_exceeded once; done is closed
//   exactly once, right after that transition, outside the lock.
// - A node with pending after-funcs pins itself (pin = shared_from_this()) so
//   that they run even if every handle is dropped; the pin goes with the
//   cancel or with the last stop().
// - Deadlines are delayed messages to one hidden "context clock" actor per
//   runtime, holding only a weak reference to the node: a canceled or dropped
//   context leaves nothing to run, and no live work is counted, so pending
//   deadlines never delay runtime shutdown.
#include "rotina/context.hpp"

#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

class context_node : public std::enable_shared_from_this<context_node> {
public:
  struct after_entry {
    uint64_t id;
    runtime* rt;
    std::function<void()> f;
  };

  context_node(context_ptr parent_node, runtime* rt_ptr, bool is_cancelable)
    : parent(std::move(parent_node)), rt(rt_ptr), cancelable(is_cancelable) {
    if (parent && parent->deadline)
      deadline = parent->deadline;
    if (cancelable) {
      canceler = this;
      done = make_chan_in<unit>(rt, 0);
    } else if (parent) {
      canceler = parent->canceler;
    }
  }

  ~context_node() {
    if (cancelable && parent && parent->canceler != nullptr) {
      auto p = parent->canceler;
      std::lock_guard<std::mutex> guard{p->mtx};
      p->children.erase(this);
    }
  }

  /// Registers this (new, cancelable) node with its canceler ancestor, or
  /// cancels it at once if that ancestor is done.
  void attach() {
    if (!parent || parent->canceler == nullptr)
      return;
    auto p = parent->canceler;
    error perr;
    error pcause;
    {
      std::lock_guard<std::mutex> guard{p->mtx};
      if (!p->err) {
        p->children.emplace(this, weak_from_this());
        return;
      }
      perr = p->err;
      pcause = p->cause;
    }
    cancel(perr, pcause);
  }

  /// Cancels this node and its subtree. Does nothing if already canceled.
  void cancel(const error& e, const error& c) {
    std::vector<context_ptr> kids;
    std::vector<after_entry> afters_to_run;
    context_ptr unpin;
    error my_cause;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (err)
        return;
      err = e;
      cause = c ? c : e;
      my_cause = cause;
      kids.reserve(children.size());
      for (auto& kv : children)
        if (auto k = kv.second.lock())
          kids.emplace_back(std::move(k));
      children.clear();
      afters_to_run.swap(afters);
      unpin = std::move(pin);
    }
    done.close();
    for (auto& k : kids)
      k->cancel(e, my_cause);
    for (auto& a : afters_to_run)
      go(*a.rt, std::move(a.f));
    if (parent && parent->canceler != nullptr) {
      auto p = parent->canceler;
      std::lock_guard<std::mutex> guard{p->mtx};
      p->children.erase(this);
    }
  }

  // -- immutable after construction --
  context_ptr parent;
  runtime* rt;
  bool cancelable;
  context_node* canceler = nullptr;
  std::optional<clock::time_point> deadline;
  const void* key = nullptr;
  std::shared_ptr<const void> value;
  chan<unit> done;

  // -- cancel state, under mtx --
  std::mutex mtx;
  error err;
  error cause;
  std::unordered_map<context_node*, std::weak_ptr<context_node>> children;
  std::vector<after_entry> afters;
  uint64_t next_after_id = 1;
  context_ptr pin;
};

namespace {

using deadline_atom = caf::atom_constant<caf::atom("rt_ddl")>;

} // namespace

/// The message a context clock receives when a deadline passes.
struct deadline_msg {
  std::weak_ptr<context_node> node;
};

} // namespace rotina::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rotina::detail::deadline_msg)

namespace rotina::detail {

namespace {

std::mutex clocks_mtx;
std::unordered_map<runtime*, caf::actor> clocks;

// Takes an argument: CAF 0.17 binds a function actor without arguments to a
// null tuple, which UBSan reports.
caf::behavior context_clock(caf::event_based_actor*, runtime*) {
  return {
    [](deadline_atom, deadline_msg& msg) {
      if (auto n = msg.node.lock())
        n->cancel(error{errc::deadline_exceeded}, error{});
    },
  };
}

caf::actor clock_of(runtime& rt) {
  std::lock_guard<std::mutex> guard{clocks_mtx};
  auto& clk = clocks[&rt];
  if (!clk) {
    clk = rt.system().spawn<caf::hidden>(context_clock, &rt);
    auto rtp = &rt;
    rt.on_cancel([rtp] {
      caf::actor victim;
      {
        std::lock_guard<std::mutex> guard{clocks_mtx};
        auto i = clocks.find(rtp);
        if (i == clocks.end())
          return;
        victim = std::move(i->second);
        clocks.erase(i);
      }
      caf::anon_send_exit(victim, caf::exit_reason::user_shutdown);
    });
  }
  return clk;
}

runtime* runtime_of(const context& parent) {
  if (auto rt = parent.rt())
    return rt;
  return current_runtime();
}

runtime& require_runtime(const context& parent, const char* what) {
  if (auto rt = runtime_of(parent))
    return *rt;
  throw std::logic_error(std::string{what}
                         + ": no runtime; derive the context from "
                           "background(rt) or call it in a goroutine");
}

context_ptr make_cancelable(const context& parent) {
  auto node
    = std::make_shared<context_node>(parent.node(), runtime_of(parent), true);
  node->attach();
  return node;
}

} // namespace

context with_value_impl(const context& parent, const void* key,
                        std::shared_ptr<const void> value) {
  auto node
    = std::make_shared<context_node>(parent.node(), runtime_of(parent), false);
  node->key = key;
  node->value = std::move(value);
  return context{std::move(node)};
}

} // namespace rotina::detail

namespace rotina {

// -- context ------------------------------------------------------------------

recv_chan<unit> context::done() const {
  if (!node_ || node_->canceler == nullptr)
    return {};
  return node_->canceler->done;
}

error context::err() const {
  if (!node_ || node_->canceler == nullptr)
    return {};
  auto c = node_->canceler;
  std::lock_guard<std::mutex> guard{c->mtx};
  return c->err;
}

std::optional<clock::time_point> context::deadline() const {
  if (!node_)
    return std::nullopt;
  return node_->deadline;
}

runtime* context::rt() const noexcept {
  return node_ ? node_->rt : nullptr;
}

const void* context::value_impl(const void* key) const {
  for (auto n = node_.get(); n != nullptr; n = n->parent.get())
    if (n->key == key)
      return n->value.get();
  return nullptr;
}

void cancel_func::operator()() const {
  if (auto n = node_.lock())
    n->cancel(error{errc::canceled}, error{});
}

void cancel_cause_func::operator()(error cause) const {
  if (auto n = node_.lock())
    n->cancel(error{errc::canceled}, cause);
}

error cause(const context& ctx) {
  auto& node = ctx.node();
  if (!node || node->canceler == nullptr)
    return {};
  auto c = node->canceler;
  std::lock_guard<std::mutex> guard{c->mtx};
  return c->cause;
}

// -- constructors of contexts -------------------------------------------------

context background() noexcept {
  return context{};
}

context background(runtime& rt) {
  return context{std::make_shared<detail::context_node>(nullptr, &rt, false)};
}

std::pair<context, cancel_func> with_cancel(const context& parent) {
  auto node = detail::make_cancelable(parent);
  cancel_func f{node};
  return {context{std::move(node)}, std::move(f)};
}

std::pair<context, cancel_cause_func> with_cancel_cause(const context& parent) {
  auto node = detail::make_cancelable(parent);
  cancel_cause_func f{node};
  return {context{std::move(node)}, std::move(f)};
}

std::pair<context, cancel_func> with_deadline(const context& parent,
                                              clock::time_point t) {
  auto pd = parent.deadline();
  if (pd && *pd <= t)
    return with_cancel(parent); // the parent's deadline comes first
  auto& rt = detail::require_runtime(parent, "rotina::with_deadline");
  auto node = std::make_shared<detail::context_node>(parent.node(), &rt, true);
  node->deadline = t;
  node->attach();
  cancel_func f{node};
  auto now = clock::now();
  if (t <= now) {
    node->cancel(error{errc::deadline_exceeded}, error{});
  } else if (!context{node}.err()) {
    caf::delayed_anon_send(detail::clock_of(rt), t - now,
                           detail::deadline_atom::value,
                           detail::deadline_msg{node});
  }
  return {context{std::move(node)}, std::move(f)};
}

std::pair<context, cancel_func> with_timeout(const context& parent,
                                             std::chrono::nanoseconds d) {
  return with_deadline(parent, clock::now() + d);
}

// -- after_func ---------------------------------------------------------------

bool after_func_stop::operator()() const {
  auto n = node_.lock();
  if (!n)
    return false;
  detail::context_ptr unpin;
  std::lock_guard<std::mutex> guard{n->mtx};
  for (auto i = n->afters.begin(); i != n->afters.end(); ++i) {
    if (i->id == id_) {
      n->afters.erase(i);
      if (n->afters.empty())
        unpin = std::move(n->pin);
      return true;
    }
  }
  return false;
}

after_func_stop after_func(const context& ctx, std::function<void()> f) {
  auto& rt = detail::require_runtime(ctx, "rotina::after_func");
  auto& node = ctx.node();
  if (!node || node->canceler == nullptr)
    return {}; // never done: f never runs
  auto c = node->canceler;
  {
    std::lock_guard<std::mutex> guard{c->mtx};
    if (!c->err) {
      auto id = c->next_after_id++;
      c->afters.push_back({id, &rt, std::move(f)});
      if (!c->pin)
        c->pin = c->shared_from_this();
      return after_func_stop{c->weak_from_this(), id};
    }
  }
  go(rt, std::move(f));
  return {};
}

// -- sleep --------------------------------------------------------------------

task<error> sleep(context ctx, std::chrono::nanoseconds d) {
  if (auto e = ctx.err())
    co_return e;
  if (d.count() <= 0)
    co_return error{};
  auto [timed, stop] = with_timeout(ctx, d);
  co_await timed.done().recv();
  stop();
  co_return ctx.err();
}

} // namespace rotina
