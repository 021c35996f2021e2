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
//   exactly once, in the same critical section (under mtx), so err() is
//   empty while done is open. Lock order: a node's mtx, then its done
//   channel's lock (closing wakes parked receivers through the scheduler and
//   never calls back into the context).
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

#include <unordered_map>
#include <vector>

#include "rotina/detail/timer_service.hpp"
#include "rotina/goroutine.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

/// What made a node, for String().
enum class context_kind : uint8_t { background, todo, cancel, deadline, value };

class context_node : public std::enable_shared_from_this<context_node> {
public:
  struct after_entry {
    uint64_t id;
    runtime_ref rt;
    std::function<void()> f;
  };

  context_node(context_ptr parent_node, runtime* rt_ptr, bool is_cancelable,
               context_kind k)
    : parent(std::move(parent_node)),
      rt(rt_ptr != nullptr ? rt_ptr->ref() : runtime_ref{}),
      cancelable(is_cancelable), kind(k) {
    if (parent && parent->deadline)
      deadline = parent->deadline;
    if (cancelable) {
      canceler = this;
      done = make_chan_in<unit>(rt_ptr, 0);
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
      // Go's rule "If Done is not yet closed, Err returns nil": close done in
      // the same critical section that sets err, the one err() takes, as Go's
      // cancelCtx.cancel does under c.mu.
      done.close();
    }
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
  context_kind kind;
  context_node* canceler = nullptr;
  std::optional<clock::time_point> deadline;
  /// The deadline this node set itself (WithDeadline), for String().
  std::optional<clock::time_point> own_deadline;
  const void* key = nullptr;
  const char* key_name = nullptr;
  describe_fn describe = nullptr;
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

/// Go's WithCancel & co.: "cannot create context from nil parent".
void require_parent(const context& parent) {
  if (parent.nil())
    throw panic_error{
      error{errc::misuse, "cannot create context from nil parent"}};
}

/// Go calls a method of a nil interface: a nil dereference. rotina panics.
const context_node& require_node(const context& ctx, const char* what) {
  if (ctx.nil())
    throw panic_error{error{errc::misuse, std::string{"context: "} + what
                                            + " called on a nil context"}};
  return *ctx.node();
}

runtime& require_runtime(const context& parent, const char* what) {
  if (parent.node() && parent.node()->rt)
    return parent.node()->rt.get(what); // panics if it was destroyed
  if (auto rt = runtime_of(parent))
    return *rt;
  throw panic_error{
    error{errc::misuse, std::string{what}
                          + ": no runtime; derive the context from "
                            "background(rt) or call it in a goroutine"}};
}

context_ptr make_cancelable(const context& parent, runtime* rt) {
  require_parent(parent);
  auto node = std::make_shared<context_node>(parent.node(), rt, true,
                                             context_kind::cancel);
  node->attach();
  return node;
}

/// Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "2µs", "0s".
std::string go_duration(std::chrono::nanoseconds d) {
  auto ns = d.count();
  if (ns == 0)
    return "0s";
  std::string sign = ns < 0 ? "-" : "";
  // |INT64_MIN| does not fit: widen.
  auto u
    = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto frac = [](uint64_t v, uint64_t unit) {
    auto s = std::to_string(v / unit);
    if (auto r = v % unit; r != 0) {
      auto digits = std::to_string(r + unit).substr(1); // leading zeros
      while (!digits.empty() && digits.back() == '0')
        digits.pop_back();
      s += "." + digits;
    }
    return s;
  };
  if (u < 1000)
    return sign + std::to_string(u) + "ns";
  if (u < 1000000)
    return sign + frac(u, 1000) + "\u00b5s";
  if (u < 1000000000)
    return sign + frac(u, 1000000) + "ms";
  constexpr uint64_t sec = 1000000000;
  auto h = u / (3600 * sec);
  auto m = u / (60 * sec) % 60;
  auto rest = u % (60 * sec);
  std::string out = sign;
  if (h > 0)
    out += std::to_string(h) + "h";
  if (h > 0 || m > 0)
    out += std::to_string(m) + "m";
  return out + frac(rest, sec) + "s";
}

std::string name_of(const context_node* n) {
  if (n == nullptr)
    return "<nil>";
  switch (n->kind) {
  case context_kind::background:
    return "context.Background";
  case context_kind::todo:
    return "context.TODO";
  case context_kind::cancel:
    return name_of(n->parent.get()) + ".WithCancel";
  case context_kind::deadline: {
    auto t = *n->own_deadline;
    return name_of(n->parent.get()) + ".WithDeadline(m=+"
           + go_duration(t.time_since_epoch()) + " ["
           + go_duration(t - clock::now()) + "])";
  }
  case context_kind::value:
    return name_of(n->parent.get()) + ".WithValue("
           + (n->key_name ? n->key_name : "<key>") + ", "
           + (n->describe ? n->describe(n->value.get()) : "<nil>") + ")";
  }
  return "context";
}

} // namespace

context with_value_impl(const context& parent, const void* key,
                        const char* key_name, describe_fn describe,
                        std::shared_ptr<const void> value) {
  require_parent(parent);
  auto node = std::make_shared<context_node>(parent.node(), runtime_of(parent),
                                             false, context_kind::value);
  node->key = key;
  node->key_name = key_name;
  node->describe = describe;
  node->value = std::move(value);
  return context{std::move(node)};
}

std::pair<context, cancel_cause_func>
with_cancel_cause_in(const context& parent, runtime* rt) {
  auto own = parent.rt();
  auto node = make_cancelable(parent, own ? own : rt ? rt : runtime_of(parent));
  cancel_cause_func f{node};
  return {context{std::move(node)}, std::move(f)};
}

} // namespace rotina::detail

namespace rotina {

// -- context ------------------------------------------------------------------

recv_chan<unit> context::done() const {
  auto& n = detail::require_node(*this, "Done");
  if (n.canceler == nullptr)
    return {};
  return n.canceler->done;
}

error context::err() const {
  auto& n = detail::require_node(*this, "Err");
  if (n.canceler == nullptr)
    return {};
  auto c = n.canceler;
  std::lock_guard<std::mutex> guard{c->mtx};
  return c->err;
}

std::optional<clock::time_point> context::deadline() const {
  return detail::require_node(*this, "Deadline").deadline;
}

runtime* context::rt() const noexcept {
  return node_ ? node_->rt.lock() : nullptr;
}

std::string context::to_string() const {
  return detail::name_of(node_.get());
}

std::string to_string(const context& ctx) {
  return ctx.to_string();
}

const void* context::value_impl(const void* key) const {
  detail::require_node(*this, "Value");
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
  auto& node = detail::require_node(ctx, "Cause");
  if (node.canceler == nullptr)
    return {};
  auto c = node.canceler;
  std::lock_guard<std::mutex> guard{c->mtx};
  return c->cause;
}

// -- constructors of contexts -------------------------------------------------

namespace {

context root(detail::context_kind kind, runtime* rt) {
  return context{
    std::make_shared<detail::context_node>(nullptr, rt, false, kind)};
}

} // namespace

context background() noexcept {
  // One node for the process, as Go's backgroundCtx{} (never destroyed: it
  // may be used from static destructors).
  static const auto* bg
    = new context{root(detail::context_kind::background, nullptr)};
  return *bg;
}

context background(runtime& rt) {
  return root(detail::context_kind::background, &rt);
}

context todo() noexcept {
  static const auto* td
    = new context{root(detail::context_kind::todo, nullptr)};
  return *td;
}

context todo(runtime& rt) {
  return root(detail::context_kind::todo, &rt);
}

std::pair<context, cancel_func> with_cancel(const context& parent) {
  auto node = detail::make_cancelable(parent, detail::runtime_of(parent));
  cancel_func f{node};
  return {context{std::move(node)}, std::move(f)};
}

std::pair<context, cancel_cause_func> with_cancel_cause(const context& parent) {
  return detail::with_cancel_cause_in(parent, nullptr);
}

std::pair<context, cancel_func> with_deadline(const context& parent,
                                              clock::time_point t) {
  detail::require_parent(parent);
  auto pd = parent.deadline();
  if (pd && *pd <= t)
    return with_cancel(parent); // the parent's deadline comes first
  auto& rt = detail::require_runtime(parent, "rotina::with_deadline");
  auto node = std::make_shared<detail::context_node>(
    parent.node(), &rt, true, detail::context_kind::deadline);
  node->deadline = t;
  node->own_deadline = t;
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
  auto& node = detail::require_node(ctx, "AfterFunc");
  auto& rt = detail::require_runtime(ctx, "rotina::after_func");
  if (node.canceler == nullptr)
    return {}; // never done: f never runs
  auto c = node.canceler;
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
