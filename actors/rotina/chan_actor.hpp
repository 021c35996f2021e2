// The actor identity of a channel (opt-in: this header brings CAF's). A CAF
// actor that serves one channel to other actors and, through caf::io, to
// other nodes. It performs every request through the same channel core as
// local goroutines, so a local and a remote party meet on one queue with one
// set of rules.
//
// Protocol (request -> response):
//   (chan_send_atom, T)  -> ()            once the value is buffered or taken;
//                           error send_on_closed if the channel is closed.
//   (chan_recv_atom)     -> (T, true)     a value; (T{}, false) once closed and
//                                         drained.
//   (chan_close_atom)    -> ()            or error close_of_closed.
//   (chan_len_atom)      -> (len, cap)
//
// Invariants:
// - A request that must wait parks a request_parker owned by the actor (in
//   parked). A waker completes its waiter under the channel lock and sends
//   (chan_wake_atom, id) to the actor; the actor answers the request in its
//   own context (CAF's response_promise may only be used there).
// - When the actor exits, it withdraws every parked waiter and answers nothing
//   more; a requester across nodes learns of it by its own timeout or by the
//   node going down.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>

#include <caf/all.hpp>

#include "rotina/chan.hpp"
#include "rotina/error.hpp"

namespace rotina::detail {

using chan_send_atom = caf::atom_constant<caf::atom("ch_send")>;
using chan_recv_atom = caf::atom_constant<caf::atom("ch_recv")>;
using chan_close_atom = caf::atom_constant<caf::atom("ch_close")>;
using chan_len_atom = caf::atom_constant<caf::atom("ch_len")>;
using chan_wake_atom = caf::atom_constant<caf::atom("ch_wake")>;

/// A request waiting on the channel for a value or for room. Its storage holds
/// the value to send (send) or receives the value (recv).
template <class T>
class request_parker final : public parker {
public:
  request_parker(caf::actor self, uint64_t id, caf::response_promise rp,
                 bool is_send)
    : self_(std::move(self)), id_(id), rp_(std::move(rp)), is_send_(is_send) {
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
  void answer() {
    if (is_send_) {
      if (w.ok)
        rp_.deliver(caf::unit);
      else
        rp_.deliver(to_caf_error(error{errc::send_on_closed}));
      return;
    }
    if (w.ok) {
      slot_.set_full();
      rp_.deliver(std::move(*slot_.take()), true);
    } else {
      rp_.deliver(T{}, false);
    }
  }

  waiter w;

private:
  caf::actor self_;
  uint64_t id_;
  caf::response_promise rp_;
  bool is_send_;
  value_slot<T> slot_;
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
  }

  chan_ref st;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, std::unique_ptr<request_parker<T>>> parked;
  static inline const char* name = "rotina.chan";
};

/// The park_fn of a request: a request_parker owned by the actor.
template <class T>
struct request_park {
  caf::stateful_actor<chan_actor_state<T>>* self;
  bool is_send;
  T* value; // send: moved into the parker

  static waiter* call(void* ptr) {
    auto ctx = static_cast<request_park*>(ptr);
    auto self = ctx->self;
    auto& s = self->state;
    auto id = s.next_id++;
    auto p = std::make_unique<request_parker<T>>(
      caf::actor_cast<caf::actor>(self), id, self->make_response_promise(),
      ctx->is_send);
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
  return {
    [self](chan_send_atom, T& value) -> caf::result<void> {
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
    [self](chan_recv_atom) -> caf::result<T, bool> {
      value_slot<T> slot;
      request_park<T> ctx{self, false, nullptr};
      park_fn park{&request_park<T>::call, &ctx};
      switch (chan_recv(self->state.st.get(), slot.raw(), &park)) {
      case op_status::done:
        slot.set_full();
        return {std::move(*slot.take()), true};
      case op_status::closed:
        return {T{}, false};
      default:
        return caf::delegated<T, bool>{};
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
      p->answer();
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
  auto& id = identity_of(*st.get());
  std::lock_guard<std::mutex> guard{id.mtx};
  if (auto strong = id.actor.lock())
    return caf::actor_cast<caf::actor>(strong);
  auto& sys = system_of(*st.get());
  auto result = sys.spawn(chan_actor_impl<T>, st);
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
