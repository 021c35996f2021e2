// The actor identity of a channel (opt-in: this header brings CAF's). A CAF
// actor that serves one channel to other actors and, through caf::io, to
// other nodes. It performs every request through the same channel core as
// local goroutines, so a local and a remote party meet on one queue with one
// set of rules.
//
// Protocol (request -> response; W is wire_t<T>: T itself, or
// remote_handle for a channel of channels):
//   (chan_send_atom, W)  -> ()            once the value is buffered or taken;
//                           error send_on_closed if the channel is closed.
//   (chan_recv_atom)     -> (W, true)     a value; (W{}, false) once closed and
//                                         drained.
//   (chan_try_send_atom, W) -> (status)   0 sent, 1 closed, 2 would block.
//   (chan_try_recv_atom) -> (W, status)   the same codes for a receive.
//   (chan_close_atom)    -> ()            or error close_of_closed.
//   (chan_len_atom)      -> (len, cap)
//
// Invariants:
// - A request that must wait parks a request_parker owned by the actor (in
//   parked). A waker completes its waiter under the channel lock and sends
//   (chan_wake_atom, id) to the actor; the actor answers the request in its
//   own context (CAF's response_promise may only be used there).
// - When the actor exits, it withdraws every parked waiter and answers nothing
//   more; a requester across nodes learns of it by monitoring the actor or by
//   the node going down.
// - A request parked for a party of another node is withdrawn when that node
//   goes down (runtime::on_node_down), so a dead receiver takes no value and a
//   dead sender's value is not delivered later.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>

#include "rotina/chan.hpp"
#include "rotina/detail/remote_chan.hpp"
#include "rotina/detail/remote_handle.hpp"
#include "rotina/error.hpp"
#include "rotina/runtime.hpp"

namespace rotina::detail {

using chan_send_atom = caf::atom_constant<caf::atom("ch_send")>;
using chan_recv_atom = caf::atom_constant<caf::atom("ch_recv")>;
using chan_close_atom = caf::atom_constant<caf::atom("ch_close")>;
using chan_len_atom = caf::atom_constant<caf::atom("ch_len")>;
using chan_wake_atom = caf::atom_constant<caf::atom("ch_wake")>;
using chan_try_send_atom = caf::atom_constant<caf::atom("ch_tsend")>;
using chan_try_recv_atom = caf::atom_constant<caf::atom("ch_trecv")>;
using chan_peer_down_atom = caf::atom_constant<caf::atom("ch_pdown")>;
// The remote-core protocol (plain messages keyed by a sequence number; the
// sender is the handle's proxy actor, which gets the answers):
//   (rc_send_atom, seq, W) -> (rc_sent_atom, seq, ok, credit)
//   (rc_recv_atom, seq)    -> (rc_value_atom, seq, W, ok)
//   (rc_push_atom, W)      -> nothing: a value sent under credit
//   (rc_push_batch_atom, n, bytes) -> nothing: n such values, serialized
//   (rc_give_back_atom, k) -> nothing: k unused credits returned
// Credit: an answer to rc_send may grant the proxy `credit` reserved slots of
// a buffered channel (count + reserved <= cap at the owner); the proxy then
// completes that many sends at once and ships them as rc_push, in order.
using rc_send_atom = caf::atom_constant<caf::atom("rc_send")>;
using rc_recv_atom = caf::atom_constant<caf::atom("rc_recv")>;
using rc_sent_atom = caf::atom_constant<caf::atom("rc_sent")>;
using rc_value_atom = caf::atom_constant<caf::atom("rc_value")>;
using rc_push_atom = caf::atom_constant<caf::atom("rc_push")>;
using rc_give_back_atom = caf::atom_constant<caf::atom("rc_giveb")>;
using rc_push_batch_atom = caf::atom_constant<caf::atom("rc_pushb")>;
using rc_flush_atom = caf::atom_constant<caf::atom("rc_flush")>;
using rc_linger_atom = caf::atom_constant<caf::atom("rc_linger")>;
// A select with a case on this channel waits for it to become ready:
//   (rc_watch_atom, seq, is_send) -> (rc_ready_atom, seq) once, when a send
//   (receive) may proceed; (rc_unwatch_atom, seq) withdraws it.
using rc_watch_atom = caf::atom_constant<caf::atom("rc_watch")>;
using rc_unwatch_atom = caf::atom_constant<caf::atom("rc_unwatch")>;
using rc_ready_atom = caf::atom_constant<caf::atom("rc_ready")>;
using chan_watch_fired_atom = caf::atom_constant<caf::atom("ch_wfired")>;

/// How a value of type T crosses nodes: as itself, or (for channel handles)
/// as a remote_handle. The conversions of channel handles are defined in
/// <rotina/remote.hpp>, which this header includes at its end.
template <class T>
struct wire_traits {
  using type = T;

  static T to(T&& x, runtime&) {
    return std::move(x);
  }

  static T from(T&& x, runtime&) {
    return std::move(x);
  }
};

template <class U>
struct wire_traits<chan<U>> {
  using type = remote_handle;
  static remote_handle to(chan<U>&& x, runtime& rt);
  static chan<U> from(remote_handle&& x, runtime& rt);
};

template <class U>
struct wire_traits<send_chan<U>> {
  using type = remote_handle;
  static remote_handle to(send_chan<U>&& x, runtime& rt);
  static send_chan<U> from(remote_handle&& x, runtime& rt);
};

template <class U>
struct wire_traits<recv_chan<U>> {
  using type = remote_handle;
  static remote_handle to(recv_chan<U>&& x, runtime& rt);
  static recv_chan<U> from(remote_handle&& x, runtime& rt);
};

template <class T>
using wire_t = typename wire_traits<T>::type;

/// Status codes of the try answers.
enum class try_code : uint8_t { done = 0, closed = 1, blocked = 2 };

/// A request waiting on the channel for a value or for room. Its storage holds
/// the value to send (send) or receives the value (recv).
template <class T>
class request_parker final : public parker {
public:
  request_parker(caf::actor self, uint64_t id, caf::response_promise rp,
                 bool is_send, caf::node_id from)
    : self_(std::move(self)), id_(id), rp_(std::move(rp)), is_send_(is_send),
      from_(std::move(from)) {
    w.who = this;
    w.slot = slot_.raw();
  }

  /// A parked operation of a remote core: answered with a plain message
  /// (rc_sent_atom / rc_value_atom) to `reply_to`, keyed by `seq`.
  request_parker(caf::actor self, uint64_t id, caf::actor reply_to,
                 uint64_t seq, bool is_send, caf::node_id from)
    : self_(std::move(self)), id_(id), is_send_(is_send),
      from_(std::move(from)), reply_to_(std::move(reply_to)), seq_(seq) {
    w.who = this;
    w.slot = slot_.raw();
  }

  /// Moves the value to send into the storage.
  void hold(T&& x) noexcept {
    new (slot_.raw()) T(std::move(x));
    slot_.set_full();
  }

  void unpark() noexcept override {
    // Runs on the waker's thread: hand the answer back to the actor, which
    // alone may use the response promise.
    caf::anon_send(self_, chan_wake_atom::value, id_);
  }

  /// Withdraws the waiter and adopts a value delivered but never answered.
  void withdraw(chan_base* st) noexcept {
    chan_cancel(st, &w);
    if (!is_send_ && w.completed && w.ok)
      slot_.set_full();
  }

  /// Answers the request once a waker completed the waiter.
  void answer(runtime& rt) {
    if (reply_to_) {
      if (is_send_) {
        caf::anon_send(reply_to_, rc_sent_atom::value, seq_, w.ok, uint64_t{0});
      } else if (w.ok) {
        slot_.set_full();
        caf::anon_send(reply_to_, rc_value_atom::value, seq_,
                       wire_traits<T>::to(std::move(*slot_.take()), rt), true);
      } else {
        caf::anon_send(reply_to_, rc_value_atom::value, seq_, wire_t<T>{},
                       false);
      }
      return;
    }
    if (is_send_) {
      if (w.ok)
        rp_.deliver(caf::unit);
      else
        rp_.deliver(to_caf_error(error{errc::send_on_closed}));
      return;
    }
    if (w.ok) {
      slot_.set_full();
      rp_.deliver(wire_traits<T>::to(std::move(*slot_.take()), rt), true);
    } else {
      rp_.deliver(wire_t<T>{}, false);
    }
  }

  /// The node of the requester.
  const caf::node_id& from() const noexcept {
    return from_;
  }

  waiter w;

private:
  caf::actor self_;
  uint64_t id_;
  caf::response_promise rp_;
  bool is_send_;
  caf::node_id from_;
  caf::actor reply_to_;
  uint64_t seq_ = 0;
  value_slot<T> slot_;
};

/// A remote select's notify-only waiter at the owner. Fired under the
/// channel lock; tells the actor, which answers rc_ready.
class watch_parker final : public parker {
public:
  watch_parker(caf::actor self, uint64_t id, caf::actor proxy, uint64_t seq)
    : self_(std::move(self)), id_(id), proxy_(std::move(proxy)), seq_(seq) {
    w.notify = true;
    w.sel = &once_;
    w.who = this;
  }

  void unpark() noexcept override {
    caf::anon_send(self_, chan_watch_fired_atom::value, id_);
  }

  const caf::actor& proxy() const noexcept {
    return proxy_;
  }

  uint64_t seq() const noexcept {
    return seq_;
  }

  waiter w;

private:
  caf::actor self_;
  uint64_t id_;
  caf::actor proxy_;
  uint64_t seq_;
  select_state once_;
};

template <class T>
struct chan_actor_state {
  chan_actor_state() = default;
  chan_actor_state(const chan_actor_state&) = delete;
  chan_actor_state& operator=(const chan_actor_state&) = delete;

  /// The actor exits: no waker may touch our parkers after this.
  ~chan_actor_state() {
    for (auto& kvp : parked)
      kvp.second->withdraw(st.get());
    for (auto& kvp : watches)
      chan_unwatch(st.get(), &kvp.second->w);
  }

  chan_ref st;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, std::unique_ptr<request_parker<T>>> parked;
  /// Nodes of remote requesters whose loss this actor watches.
  std::vector<caf::node_id> watched;
  /// Watches of remote selects (by local id).
  std::unordered_map<uint64_t, std::unique_ptr<watch_parker>> watches;
  /// Credit granted per proxy and not yet filled or returned.
  std::vector<std::pair<caf::actor, size_t>> ledger;
  static inline const char* name = "rotina.chan";
};

/// Makes the actor withdraw the parked requests of node `id` when that node
/// goes down (once per node).
template <class T>
void watch_node(caf::stateful_actor<chan_actor_state<T>>* self,
                const caf::node_id& id) {
  auto& w = self->state.watched;
  if (std::find(w.begin(), w.end(), id) != w.end())
    return;
  w.push_back(id);
  auto& rt = chan_runtime(*self->state.st.get());
  auto peer = rt.node_of(id);
  auto me = caf::actor_cast<caf::weak_actor_ptr>(self);
  auto notify = [me, id](const node&, const error&) {
    if (auto strong = me.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong),
                     chan_peer_down_atom::value, id);
  };
  if (!peer) {
    // Not a handshaken peer (or gone already): treat it as down at once.
    caf::anon_send(caf::actor_cast<caf::actor>(self),
                   chan_peer_down_atom::value, id);
    return;
  }
  rt.on_node_down(*peer, notify);
}

/// The proxy's ledger entry (created on first use).
template <class T>
size_t& ledger_of(caf::stateful_actor<chan_actor_state<T>>* self,
                  const caf::actor& proxy) {
  auto& l = self->state.ledger;
  for (auto& [who, n] : l)
    if (who == proxy)
      return n;
  l.emplace_back(proxy, 0);
  return l.back().second;
}

/// Tops up the credit of `proxy` (a remote sender) to half the capacity, from
/// free slots only; returns what it granted.
template <class T>
uint64_t grant_credit(caf::stateful_actor<chan_actor_state<T>>* self,
                      const caf::actor& proxy) {
  auto cap = self->state.st->cap();
  if (cap < 2 || !proxy || proxy.node() == self->node())
    return 0;
  auto window = cap / 2;
  auto& have = ledger_of(self, proxy);
  if (have >= window / 2)
    return 0;
  auto k = chan_reserve(self->state.st.get(), window - have);
  if (k > 0) {
    have += k;
    watch_node(self, proxy.node());
  }
  return k;
}

/// The park_fn of a request: a request_parker owned by the actor.
template <class T>
struct request_park {
  caf::stateful_actor<chan_actor_state<T>>* self;
  bool is_send;
  T* value; // send: moved into the parker
  /// Set for a remote core's plain message: where the answer goes.
  caf::actor reply_to = nullptr;
  uint64_t seq = 0;

  static waiter* call(void* ptr) {
    auto ctx = static_cast<request_park*>(ptr);
    auto self = ctx->self;
    auto& s = self->state;
    auto id = s.next_id++;
    auto sender = self->current_sender();
    auto from = sender != nullptr ? sender->node() : self->node();
    auto p = ctx->reply_to ? std::make_unique<request_parker<T>>(
               caf::actor_cast<caf::actor>(self), id, ctx->reply_to, ctx->seq,
               ctx->is_send, from)
                           : std::make_unique<request_parker<T>>(
                             caf::actor_cast<caf::actor>(self), id,
                             self->make_response_promise(), ctx->is_send, from);
    if (from != self->node())
      watch_node(self, from);
    if (ctx->is_send)
      p->hold(std::move(*ctx->value));
    auto raw = p.get();
    s.parked.emplace(id, std::move(p));
    return &raw->w;
  }
};

template <class T>
caf::behavior chan_actor_impl(caf::stateful_actor<chan_actor_state<T>>* self,
                              chan_ref st) {
  self->state.st = std::move(st);
  using W = wire_t<T>;
  return {
    [self](chan_send_atom, W& wire) -> caf::result<void> {
      auto value = wire_traits<T>::from(std::move(wire),
                                        chan_runtime(*self->state.st.get()));
      request_park<T> ctx{self, true, &value};
      park_fn park{&request_park<T>::call, &ctx};
      switch (chan_send(self->state.st.get(), &value, &park)) {
      case op_status::done:
        return caf::unit;
      case op_status::closed:
        return to_caf_error(error{errc::send_on_closed});
      default:
        return caf::delegated<void>{};
      }
    },
    [self](chan_recv_atom) -> caf::result<W, bool> {
      value_slot<T> slot;
      request_park<T> ctx{self, false, nullptr};
      park_fn park{&request_park<T>::call, &ctx};
      switch (chan_recv(self->state.st.get(), slot.raw(), &park)) {
      case op_status::done:
        slot.set_full();
        return {wire_traits<T>::to(std::move(*slot.take()),
                                   chan_runtime(*self->state.st.get())),
                true};
      case op_status::closed:
        return {W{}, false};
      default:
        return caf::delegated<W, bool>{};
      }
    },
    [self](rc_send_atom, uint64_t seq, W& wire) {
      auto reply_to = caf::actor_cast<caf::actor>(self->current_sender());
      auto value = wire_traits<T>::from(std::move(wire),
                                        chan_runtime(*self->state.st.get()));
      request_park<T> ctx{self, true, &value, reply_to, seq};
      park_fn park{&request_park<T>::call, &ctx};
      switch (chan_send(self->state.st.get(), &value, &park)) {
      case op_status::done:
        self->send(reply_to, rc_sent_atom::value, seq, true,
                   grant_credit(self, reply_to));
        break;
      case op_status::closed:
        self->send(reply_to, rc_sent_atom::value, seq, false, uint64_t{0});
        break;
      default:
        break;
      }
    },
    [self](rc_push_atom, W& wire) {
      auto proxy = caf::actor_cast<caf::actor>(self->current_sender());
      auto& have = ledger_of(self, proxy);
      if (have == 0)
        return; // no credit of this proxy (fenced: its node was lost)
      --have;
      auto value = wire_traits<T>::from(std::move(wire),
                                        chan_runtime(*self->state.st.get()));
      chan_push_reserved(self->state.st.get(), &value);
    },
    [self](rc_watch_atom, uint64_t seq, bool is_send) {
      auto proxy = caf::actor_cast<caf::actor>(self->current_sender());
      auto& s = self->state;
      auto id = s.next_id++;
      auto p = std::make_unique<watch_parker>(caf::actor_cast<caf::actor>(self),
                                              id, proxy, seq);
      if (chan_watch(s.st.get(), is_send, &p->w)) {
        self->send(proxy, rc_ready_atom::value, seq);
        return;
      }
      if (proxy.node() != self->node())
        watch_node(self, proxy.node());
      s.watches.emplace(id, std::move(p));
    },
    [self](rc_unwatch_atom, uint64_t seq) {
      auto proxy = caf::actor_cast<caf::actor>(self->current_sender());
      auto& s = self->state;
      for (auto i = s.watches.begin(); i != s.watches.end(); ++i)
        if (i->second->seq() == seq && i->second->proxy() == proxy) {
          chan_unwatch(s.st.get(), &i->second->w);
          s.watches.erase(i);
          return;
        }
    },
    [self](chan_watch_fired_atom, uint64_t id) {
      auto& s = self->state;
      auto i = s.watches.find(id);
      if (i == s.watches.end())
        return;
      self->send(i->second->proxy(), rc_ready_atom::value, i->second->seq());
      s.watches.erase(i);
    },
    [self](rc_push_batch_atom, uint32_t n, const std::vector<char>& bytes) {
      auto proxy = caf::actor_cast<caf::actor>(self->current_sender());
      auto& have = ledger_of(self, proxy);
      auto& rt = chan_runtime(*self->state.st.get());
      caf::binary_deserializer source{rt.system(), bytes};
      for (uint32_t i = 0; i < n; ++i) {
        W wire{};
        if (auto err = source(wire))
          return; // a malformed batch from a peer: drop the rest
        if (have == 0)
          return; // no credit of this proxy (fenced: its node was lost)
        --have;
        auto value = wire_traits<T>::from(std::move(wire), rt);
        chan_push_reserved(self->state.st.get(), &value);
      }
    },
    [self](rc_give_back_atom, uint64_t k) {
      auto proxy = caf::actor_cast<caf::actor>(self->current_sender());
      auto& have = ledger_of(self, proxy);
      auto n = std::min<size_t>(have, k);
      have -= n;
      chan_unreserve(self->state.st.get(), n);
    },
    [self](rc_recv_atom, uint64_t seq) {
      auto reply_to = caf::actor_cast<caf::actor>(self->current_sender());
      value_slot<T> slot;
      request_park<T> ctx{self, false, nullptr, reply_to, seq};
      park_fn park{&request_park<T>::call, &ctx};
      switch (chan_recv(self->state.st.get(), slot.raw(), &park)) {
      case op_status::done:
        slot.set_full();
        self->send(reply_to, rc_value_atom::value, seq,
                   wire_traits<T>::to(std::move(*slot.take()),
                                      chan_runtime(*self->state.st.get())),
                   true);
        break;
      case op_status::closed:
        self->send(reply_to, rc_value_atom::value, seq, W{}, false);
        break;
      default:
        break;
      }
    },
    [self](chan_try_send_atom, W& wire) {
      auto value = wire_traits<T>::from(std::move(wire),
                                        chan_runtime(*self->state.st.get()));
      switch (chan_send(self->state.st.get(), &value, nullptr)) {
      case op_status::done:
        return static_cast<uint8_t>(try_code::done);
      case op_status::closed:
        return static_cast<uint8_t>(try_code::closed);
      default:
        return static_cast<uint8_t>(try_code::blocked);
      }
    },
    [self](chan_try_recv_atom) {
      value_slot<T> slot;
      switch (chan_recv(self->state.st.get(), slot.raw(), nullptr)) {
      case op_status::done:
        slot.set_full();
        return caf::make_message(
          wire_traits<T>::to(std::move(*slot.take()),
                             chan_runtime(*self->state.st.get())),
          static_cast<uint8_t>(try_code::done));
      case op_status::closed:
        return caf::make_message(W{}, static_cast<uint8_t>(try_code::closed));
      default:
        return caf::make_message(W{}, static_cast<uint8_t>(try_code::blocked));
      }
    },
    [self](chan_close_atom) -> caf::result<void> {
      if (!self->state.st->close())
        return to_caf_error(error{errc::close_of_closed});
      return caf::unit;
    },
    [self](chan_len_atom) {
      auto& st = self->state.st;
      return caf::make_message(st->len(), st->cap());
    },
    [self](chan_wake_atom, uint64_t id) {
      auto& s = self->state;
      auto i = s.parked.find(id);
      if (i == s.parked.end())
        return;
      auto p = std::move(i->second);
      s.parked.erase(i);
      // The waker completed the waiter under the lock before it sent the wake
      // message: the message orders those writes before this read.
      p->answer(chan_runtime(*s.st.get()));
    },
    [self](chan_peer_down_atom, const caf::node_id& id) {
      // The requester's node is lost: withdraw its parked requests (a value
      // already handed to one is dropped with it; nothing is answered).
      auto& s = self->state;
      for (auto& [proxy, n] : s.ledger)
        if (proxy.node() == id && n > 0) {
          chan_unreserve(s.st.get(), n);
          n = 0;
        }
      for (auto i = s.watches.begin(); i != s.watches.end();) {
        if (i->second->proxy().node() == id) {
          chan_unwatch(s.st.get(), &i->second->w);
          i = s.watches.erase(i);
        } else {
          ++i;
        }
      }
      for (auto i = s.parked.begin(); i != s.parked.end();) {
        if (i->second->from() == id) {
          i->second->withdraw(s.st.get());
          i = s.parked.erase(i);
        } else {
          ++i;
        }
      }
    },
  };
}

/// Where a channel remembers its actor: weakly, so that the actor (which holds
/// the channel) and the channel do not keep each other alive.
struct chan_identity {
  std::mutex mtx;
  caf::weak_actor_ptr actor;
};

/// Returns the identity slot of `st`, shared by all handles of the channel.
chan_identity& identity_of(chan_base& st);

/// The actor system of the channel's runtime (through chan_runtime).
caf::actor_system& system_of(const chan_base& st);

/// Spawns (once) the actor that serves `st` to other actors and nodes.
template <class T>
caf::actor chan_actor_of(const chan_ref& st) {
  static_assert(std::is_default_constructible_v<T>,
                "a channel's actor answers (T{}, false) once closed: T must "
                "be default constructible to give a channel an actor identity");
  if (!st)
    throw panic_error{error{errc::misuse, "a nil channel has no actor"}};
  // A channel of another node: its owner's actor.
  if (auto h = remote_handle_of(*st.get()))
    return h->actor;
  auto& id = identity_of(*st.get());
  std::lock_guard<std::mutex> guard{id.mtx};
  if (auto strong = id.actor.lock())
    return caf::actor_cast<caf::actor>(strong);
  auto& sys = system_of(*st.get());
  // Detached (a thread of its own): a channel's owner must answer other
  // nodes even while every scheduler worker waits in a bounded request to
  // another owner (a remote try_send, close or len), which it would
  // otherwise deadlock with until request-timeout.
  auto result = sys.spawn<caf::detached>(chan_actor_impl<T>, st);
  track_chan_actor(chan_runtime(*st.get()), result);
  id.actor = caf::actor_cast<caf::weak_actor_ptr>(result);
  return result;
}

template <class T>
caf::actor chan_handle<T>::actor() const {
  return chan_actor_of<T>(st_);
}

} // namespace rotina::detail

namespace rotina {

/// The actor identity of `ch` (see chan_handle::actor).
template <class T>
caf::actor chan_actor(const detail::chan_handle<T>& ch) {
  return ch.actor();
}

} // namespace rotina

// The remote half: channel handles across nodes.
#include "rotina/remote.hpp"
