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
// - Deadlines are entries of the runtime's timer service (runtime::timers())
//   holding only a weak reference to the node: a canceled or dropped context
//   leaves nothing to run, and no live work is counted, so pending deadlines
//   never delay runtime shutdown.
// - A node knows its runtime through a runtime_ref: a context that outlives
//   its runtime reports "the runtime was destroyed" (panic_error) where it
//   needs one, and its after-funcs no longer run.
#include "rotina/context.hpp"

#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "rotina/detail/timer_service.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

class context_node : public std::enable_shared_from_this<context_node> {
public:
  struct after_entry {
    uint64_t id;
    runtime_ref rt;
    std::function<void()> f;
  };

  context_node(context_ptr parent_node, runtime* rt_ptr, bool is_cancelable)
    : parent(std::move(parent_node)),
      rt(rt_ptr != nullptr ? rt_ptr->ref() : runtime_ref{}),
      cancelable(is_cancelable) {
    if (parent && parent->deadline)
      deadline = parent->deadline;
    if (cancelable) {
      canceler = this;
      done = chan<unit>{std::make_shared<chan_state<unit>>(0, rt_ptr)};
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
      if (auto a_rt = a.rt.lock(); a_rt != nullptr && !a_rt->is_canceling())
        go(*a_rt, std::move(a.f)); // a destroyed runtime runs nothing
    if (parent && parent->canceler != nullptr) {
      auto p = parent->canceler;
      std::lock_guard<std::mutex> guard{p->mtx};
      p->children.erase(this);
    }
  }

  // -- immutable after construction --
  context_ptr parent;
  runtime_ref rt;
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

/// A deadline on the runtime's timer service: cancels the node when due.
class deadline_entry final : public timer_entry {
public:
  explicit deadline_entry(std::weak_ptr<context_node> node) noexcept
    : node_(std::move(node)) {
    // nop
  }

  timer_clock::time_point fire(timer_clock::time_point) noexcept override {
    if (auto n = node_.lock()) {
      try {
        n->cancel(error{errc::deadline_exceeded}, error{});
      } catch (...) {
        // an after-func could not start (shutdown): nothing to report to
      }
    }
    return timer_clock::time_point::min();
  }

private:
  std::weak_ptr<context_node> node_;
};

runtime* runtime_of(const context& parent) {
  if (auto rt = parent.rt())
    return rt;
  return current_runtime();
}

runtime& require_runtime(const context& parent, const char* what) {
  if (parent.node() && parent.node()->rt)
    return parent.node()->rt.get(what); // panics if it was destroyed
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
  return node_ ? node_->rt.lock() : nullptr;
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
    rt.timers().schedule(std::make_shared<detail::deadline_entry>(node), t);
  }
  return {context{std::move(node)}, std::move(f)};
}

std::pair<context, cancel_func> with_timeout(const context& parent,
                                             std::chrono::nanoseconds d) {
  // Saturated: a timeout too long for the clock never expires.
  return with_deadline(parent, detail::timer_service::deadline_after(d));
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
      c->afters.push_back({id, rt.ref(), std::move(f)});
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
