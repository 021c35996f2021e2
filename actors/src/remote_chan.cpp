// The remote channel core (detail/remote_chan.hpp) and the per-runtime
// registry of channels served to other nodes.
//
// Invariants (of remote_registry, under mtx):
// - `exported` holds every local channel whose actor was handed to another
//   node, with a strong reference: such a channel lives until the runtime
//   shuts down (cancel() ends the actors and drops the references), because
//   another node may still reach it through its actor.
// - `proxies` holds the proxy actors of live remote cores; cancel() ends them.
#include "rotina/detail/remote_chan.hpp"

#include <algorithm>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "rotina/chan_actor.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

namespace {

/// A credited batch goes out at this many values or bytes at the latest.
constexpr uint32_t max_batch_count = 512;
constexpr size_t max_batch_bytes = 64 * 1024;

// -- per-runtime registry
// ---------------------------------------------------------

class remote_registry final : public runtime_extension {
public:
  void cancel() override {
    std::unordered_map<caf::actor_id, std::pair<caf::actor, chan_ref>> gone;
    std::vector<caf::actor_addr> proxies;
    {
      std::lock_guard<std::mutex> guard{mtx};
      canceled = true;
      gone.swap(exported);
      proxies.swap(this->proxies);
    }
    std::vector<caf::actor_addr> chans;
    {
      std::lock_guard<std::mutex> guard{mtx};
      chans.swap(chan_actors);
    }
    for (auto& addr : proxies)
      caf::anon_send_exit(addr, caf::exit_reason::user_shutdown);
    for (auto& [id, entry] : gone)
      caf::anon_send_exit(entry.first, caf::exit_reason::user_shutdown);
    for (auto& addr : chans)
      caf::anon_send_exit(addr, caf::exit_reason::user_shutdown);
  }

  bool idle() override {
    // A goroutine parked on another node's channel can still be woken from
    // there: it is not "asleep" in Go's sense.
    return parked_ops->load(std::memory_order_relaxed) == 0;
  }

  bool on_calling_thread() const noexcept override {
    return false;
  }

  void describe_running(std::string& out) override {
    auto n = parked_ops->load(std::memory_order_relaxed);
    if (n > 0)
      out += "  " + std::to_string(n)
             + " operation(s) parked on channels of other nodes\n";
  }

  chan_ref find(caf::actor_id id) {
    std::lock_guard<std::mutex> guard{mtx};
    if (auto i = exported.find(id); i != exported.end())
      return i->second.second;
    return {};
  }

  std::mutex mtx;
  bool canceled = false;
  std::unordered_map<caf::actor_id, std::pair<caf::actor, chan_ref>> exported;
  std::vector<caf::actor_addr> proxies;
  /// Every channel actor of this runtime (detached: ended at cancel).
  std::vector<caf::actor_addr> chan_actors;
  std::shared_ptr<std::atomic<size_t>> parked_ops
    = std::make_shared<std::atomic<size_t>>(0);
};

size_t registry_slot() {
  static const size_t slot = runtime::new_extension_slot();
  return slot;
}

std::shared_ptr<runtime_extension> make_registry(runtime&) {
  return std::make_shared<remote_registry>();
}

remote_registry& registry_of(runtime& rt) {
  return static_cast<remote_registry&>(
    rt.extension(registry_slot(), make_registry));
}

// -- remote_chan
// ------------------------------------------------------------------

class remote_chan final : public chan_base {
public:
  remote_chan(size_t cap, const elem_type& type, runtime& rt,
              std::shared_ptr<remote_state> st)
    : chan_base(cap, type, &rt, nullptr), st_(std::move(st)) {
    // nop
  }

  ~remote_chan() override {
    if (watch_ != 0)
      if (auto rt = rt_unchecked())
        rt->cancel_node_watch(watch_);
    caf::actor proxy;
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      if (!st_->fault)
        st_->give_back_locked();
      proxy.swap(st_->proxy);
    }
    if (proxy)
      caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
  }

  void set_watch(node_watch w) noexcept {
    watch_ = w;
  }

  const std::shared_ptr<remote_state>& state() const noexcept {
    return st_;
  }

  op_status send(void* value, const park_fn* park) override {
    st_->check_fault();
    {
      // With credit the value has a slot at the owner that nobody else can
      // take: the send completes now and the value follows, in order.
      std::lock_guard<std::mutex> guard{st_->mtx};
      if (st_->credit > 0 && !st_->fault && !has_parked_send_locked()) {
        --st_->credit;
        ++st_->pushes;
        st_->ops->append_push(*st_, value);
        if (st_->batch_count >= max_batch_count
            || st_->batch.size() >= max_batch_bytes)
          st_->flush_locked();
        else if (st_->batch_count == 1)
          caf::anon_send(st_->proxy, rc_flush_atom::value);
        return op_status::done;
      }
    }
    if (park == nullptr)
      return st_->ops->try_send(*st_, value);
    auto seq = park_op(park, true);
    if (seq != 0)
      st_->ops->post_send(*st_, seq, value);
    return op_status::blocked;
  }

  op_status recv(void* out, const park_fn* park) override {
    st_->check_fault();
    if (park == nullptr)
      return st_->ops->try_recv(*st_, out);
    auto seq = park_op(park, false);
    if (seq != 0) {
      caf::actor proxy;
      {
        std::lock_guard<std::mutex> guard{st_->mtx};
        proxy = st_->proxy;
      }
      caf::send_as(proxy, st_->handle.actor, rc_recv_atom::value, seq);
    }
    return op_status::blocked;
  }

  bool close() override {
    st_->check_fault();
    auto& rt = st_->get_runtime();
    caf::scoped_actor self{rt.system()};
    bool closed_now = false;
    std::optional<error> fault;
    self
      ->request(st_->handle.actor, rt.request_timeout(), chan_close_atom::value)
      .receive([&]() { closed_now = true; },
               [&](caf::error& err) {
                 auto e = from_caf_error(err);
                 if (e == errc::close_of_closed)
                   return;
                 fault = error{errc::node_down,
                               st_->desc + " did not close: "
                                 + (err == caf::sec::request_timeout
                                      ? std::string{"no answer within "
                                                    "rotina.request-timeout"}
                                      : e.message())};
               });
    if (fault) {
      st_->fail_all(*fault);
      st_->check_fault();
    }
    return closed_now;
  }

  bool cancel(waiter* w) noexcept override {
    std::lock_guard<std::mutex> guard{st_->mtx};
    for (auto i = st_->pending.begin(); i != st_->pending.end(); ++i) {
      if (i->second.w == w) {
        st_->pending.erase(i);
        st_->parked_ops->fetch_sub(1, std::memory_order_relaxed);
        break;
      }
    }
    return w->completed;
  }

  size_t len() override {
    // Go's len never fails: a lost owner reads as 0.
    try {
      std::optional<error> unused;
      auto rt = rt_unchecked();
      if (rt == nullptr || st_->fault)
        return 0;
      caf::scoped_actor self{rt->system()};
      size_t result = 0;
      self
        ->request(st_->handle.actor, rt->request_timeout(),
                  chan_len_atom::value)
        .receive([&](size_t len, size_t) { result = len; },
                 [&](caf::error&) { result = 0; });
      return result;
    } catch (...) {
      return 0;
    }
  }

  bool watch(bool is_send, waiter* w) override {
    std::lock_guard<std::mutex> guard{st_->mtx};
    if (st_->fault)
      return true; // the select's next try raises the fault
    auto seq = st_->next_seq++;
    st_->watches.emplace(seq, w);
    caf::send_as(st_->proxy, st_->handle.actor, rc_watch_atom::value, seq,
                 is_send);
    return false;
  }

  void unwatch(waiter* w) noexcept override {
    std::lock_guard<std::mutex> guard{st_->mtx};
    for (auto i = st_->watches.begin(); i != st_->watches.end(); ++i)
      if (i->second == w) {
        if (st_->proxy)
          caf::send_as(st_->proxy, st_->handle.actor, rc_unwatch_atom::value,
                       i->first);
        st_->watches.erase(i);
        return;
      }
  }

  std::pair<size_t, size_t> waiting() override {
    std::lock_guard<std::mutex> guard{st_->mtx};
    size_t sends = 0;
    for (auto& [seq, op] : st_->pending)
      sends += op.is_send ? 1 : 0;
    return {sends, st_->pending.size() - sends};
  }

  [[noreturn]] void raise_fault() override {
    st_->check_fault();
    throw panic_error{error{errc::node_down, st_->desc + " failed"}};
  }

private:
  bool has_parked_send_locked() const noexcept {
    for (auto& [seq, op] : st_->pending)
      if (op.is_send)
        return true;
    return false;
  }

  /// Parks the caller and enters its operation; returns its sequence number,
  /// or 0 if the channel faulted meanwhile (then the waiter is completed).
  uint64_t park_op(const park_fn* park, bool is_send) {
    auto w = park->call(park->ctx);
    std::unique_lock<std::mutex> guard{st_->mtx};
    // Everything this handle shipped before goes first (one ordered stream).
    st_->flush_locked();
    if (st_->fault) {
      w->failed = true;
      w->completed = true;
      w->who->retain();
      guard.unlock();
      w->who->unpark();
      return 0;
    }
    auto seq = st_->next_seq++;
    st_->pending.emplace(seq, remote_state::op{w, is_send});
    st_->parked_ops->fetch_add(1, std::memory_order_relaxed);
    return seq;
  }

  std::shared_ptr<remote_state> st_;
  node_watch watch_ = 0;
};

} // namespace

// -- remote_state
// -----------------------------------------------------------------

remote_state::remote_state(runtime& rt, remote_handle h, const remote_ops& ops)
  : rt(rt.ref()), handle(std::move(h)), ops(&ops),
    desc("channel " + handle.kind + "<" + handle.type + "> of node '"
         + handle.owner + "'"),
    parked_ops(registry_of(rt).parked_ops) {
  // nop
}

void remote_state::complete_error(uint64_t seq, const caf::error& err) {
  auto e = from_caf_error(err);
  if (e == errc::send_on_closed) {
    complete(seq, false);
    return;
  }
  fail_all(error{errc::node_down, desc + " failed: " + e.message()});
}

bool remote_state::add_credit(uint64_t k) {
  std::lock_guard<std::mutex> guard{mtx};
  if (k == 0 || fault)
    return false;
  credit += static_cast<size_t>(k);
  if (linger_armed)
    return false;
  linger_armed = true;
  return true;
}

std::optional<uint64_t> remote_state::linger(uint64_t seen) {
  std::lock_guard<std::mutex> guard{mtx};
  if (credit == 0 || fault) {
    linger_armed = false;
    return std::nullopt;
  }
  if (pushes == seen) {
    give_back_locked();
    linger_armed = false;
    return std::nullopt;
  }
  return pushes;
}

void remote_state::flush_locked() {
  if (batch_count == 0 || !proxy)
    return;
  caf::send_as(proxy, handle.actor, rc_push_batch_atom::value, batch_count,
               std::move(batch));
  batch = std::vector<char>{};
  batch_count = 0;
}

void remote_state::give_back_locked() {
  flush_locked();
  if (credit == 0 || !proxy)
    return;
  caf::send_as(proxy, handle.actor, rc_give_back_atom::value,
               static_cast<uint64_t>(credit));
  credit = 0;
}

void remote_state::fire_watch(uint64_t seq) {
  std::lock_guard<std::mutex> guard{mtx};
  auto i = watches.find(seq);
  if (i == watches.end())
    return;
  auto w = i->second;
  watches.erase(i);
  fire_notify(w);
}

void remote_state::fail_all(error err) {
  std::vector<waiter*> failed;
  {
    std::lock_guard<std::mutex> guard{mtx};
    credit = 0;
    batch.clear();
    batch_count = 0;
    // Selects waiting on this channel wake and meet the fault on their try.
    for (auto& [seq, w] : watches)
      fire_notify(w);
    watches.clear();
    if (!fault)
      fault = std::move(err);
    for (auto& [seq, op] : pending) {
      op.w->failed = true;
      op.w->completed = true;
      op.w->ok = false;
      op.w->who->retain();
      failed.push_back(op.w);
    }
    pending.clear();
  }
  parked_ops->fetch_sub(failed.size(), std::memory_order_relaxed);
  for (auto w : failed)
    w->who->unpark();
}

void remote_state::check_fault() {
  std::optional<error> copy;
  {
    std::lock_guard<std::mutex> guard{mtx};
    copy = fault;
  }
  if (copy)
    throw panic_error{std::move(*copy)};
}

runtime& remote_state::get_runtime() {
  return rt.get("rotina::chan (remote)");
}

// -- entry points
// -----------------------------------------------------------------

chan_ref make_remote_chan(runtime& rt, const elem_type& type,
                          const remote_ops& ops, remote_handle h) {
  auto& self = rt.self();
  if (h.owner == self.name && h.incarnation == self.incarnation) {
    // The channel came home: the local core again.
    if (auto local = registry_of(rt).find(h.actor.id()))
      return local;
  }
  auto cap = static_cast<size_t>(h.cap);
  auto st = std::make_shared<remote_state>(rt, std::move(h), ops);
  auto owner = rt.find_node(st->handle.owner);
  if (!owner || owner->incarnation != st->handle.incarnation) {
    st->fault = error{
      errc::node_down,
      st->desc + " is unreachable: that node (incarnation "
        + std::to_string(st->handle.incarnation)
        + ") is not connected to node '" + self.name
        + "' (a channel handle works only on nodes directly connected to "
          "its owner)"};
  } else {
    st->owner = *owner;
  }
  auto chan = new remote_chan(cap, type, rt, st);
  chan_ref result{chan};
  if (!st->fault) {
    auto proxy = ops.spawn_proxy(rt, st);
    {
      std::lock_guard<std::mutex> guard{st->mtx};
      st->proxy = proxy;
    }
    auto& reg = registry_of(rt);
    {
      std::lock_guard<std::mutex> guard{reg.mtx};
      auto& ps = reg.proxies;
      ps.erase(std::remove_if(ps.begin(), ps.end(),
                              [](const caf::actor_addr& x) {
                                return caf::actor_cast<caf::strong_actor_ptr>(x)
                                       == nullptr;
                              }),
               ps.end());
      ps.push_back(proxy.address());
    }
    std::weak_ptr<remote_state> weak = st;
    chan->set_watch(
      rt.on_node_down(*st->owner, [weak](const node&, const error& err) {
        if (auto s = weak.lock())
          s->fail_all(error{errc::node_down, s->desc + ": " + err.message()});
      }));
  }
  return result;
}

void export_chan(runtime& rt, const caf::actor& actor, const chan_ref& st) {
  auto& reg = registry_of(rt);
  std::lock_guard<std::mutex> guard{reg.mtx};
  if (reg.canceled)
    return; // track_chan_actor ended it already
  reg.exported.emplace(actor.id(), std::make_pair(actor, st));
}

void track_chan_actor(runtime& rt, const caf::actor& actor) {
  auto& reg = registry_of(rt);
  {
    std::lock_guard<std::mutex> guard{reg.mtx};
    if (!reg.canceled) {
      auto& xs = reg.chan_actors;
      xs.erase(std::remove_if(xs.begin(), xs.end(),
                              [](const caf::actor_addr& x) {
                                return caf::actor_cast<caf::strong_actor_ptr>(x)
                                       == nullptr;
                              }),
               xs.end());
      xs.push_back(actor.address());
      return;
    }
  }
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

const remote_handle* remote_handle_of(const chan_base& c) noexcept {
  if (c.local() != nullptr)
    return nullptr;
  if (auto rc = dynamic_cast<const remote_chan*>(&c))
    return &rc->state()->handle;
  return nullptr;
}

} // namespace rotina::detail
