// The actor identity of a channel: a CAF actor that serves one channel's state
// to other actors and, through caf::io, to other nodes. It performs every
// request on the same in-process state as local goroutines, so a local and a
// remote party meet on one queue with one set of rules.
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
//   parked_). A waker completes its waiter under the channel lock and sends
//   (chan_wake_atom, id) to the actor; the actor answers the request in its
//   own context (CAF's response_promise may only be used there).
// - When the actor exits, it unlinks every parked waiter and answers nothing
//   more; a requester across nodes learns of it by its own timeout or by the
//   node going down.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <caf/all.hpp>

#include "rotina/detail/chan_state.hpp"
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
    w.slot = storage_;
  }

  ~request_parker() override {
    if (constructed_)
      value()->~T();
  }

  /// Moves the value to send into the storage.
  void hold(T&& x) {
    new (storage_) T(std::move(x));
    constructed_ = true;
  }

  void unpark() noexcept override {
    // Runs on the waker's thread: hand the answer back to the actor, which
    // alone may use the response promise.
    caf::anon_send(self_, chan_wake_atom::value, id_);
  }

  /// Unlinks the waiter and adopts a value delivered but never answered.
  /// Call under the channel lock.
  void withdraw_locked() noexcept {
    chan_core::unlink_locked(&w);
    if (!is_send_ && w.completed && w.ok)
      constructed_ = true;
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
      constructed_ = true;
      rp_.deliver(std::move(*value()), true);
    } else {
      rp_.deliver(T{}, false);
    }
  }

  waiter w;

private:
  T* value() noexcept {
    return std::launder(reinterpret_cast<T*>(storage_));
  }

  caf::actor self_;
  uint64_t id_;
  caf::response_promise rp_;
  bool is_send_;
  bool constructed_ = false;
  alignas(T) unsigned char storage_[sizeof(T)];
};

template <class T>
struct chan_actor_state {
  chan_actor_state() = default;
  chan_actor_state(const chan_actor_state&) = delete;
  chan_actor_state& operator=(const chan_actor_state&) = delete;

  /// The actor exits: no waker may touch our parkers after this.
  ~chan_actor_state() {
    for (auto& kvp : parked) {
      std::lock_guard<spinlock> guard{st->lock()};
      kvp.second->withdraw_locked();
    }
  }

  std::shared_ptr<chan_state<T>> st;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, std::unique_ptr<request_parker<T>>> parked;
  static inline const char* name = "rotina.chan";
};

template <class T>
caf::behavior chan_actor_impl(caf::stateful_actor<chan_actor_state<T>>* self,
                              std::shared_ptr<chan_state<T>> st) {
  self->state.st = std::move(st);
  auto park = [self](bool is_send) -> request_parker<T>* {
    auto& s = self->state;
    auto id = s.next_id++;
    auto p = std::make_unique<request_parker<T>>(
      caf::actor_cast<caf::actor>(self), id, self->make_response_promise(),
      is_send);
    auto raw = p.get();
    s.parked.emplace(id, std::move(p));
    return raw;
  };
  return {
    [self, park](chan_send_atom, T& value) -> caf::result<void> {
      auto& st = *self->state.st;
      wake_list wakes;
      std::lock_guard<spinlock> guard{st.lock()};
      switch (st.send_locked(value, wakes)) {
      case op_status::done:
        return caf::unit;
      case op_status::closed:
        return to_caf_error(error{errc::send_on_closed});
      default: {
        auto p = park(true);
        p->hold(std::move(value));
        st.enqueue_send_locked(&p->w);
        return caf::delegated<void>{};
      }
      }
    },
    [self, park](chan_recv_atom) -> caf::result<T, bool> {
      auto& st = *self->state.st;
      alignas(T) unsigned char storage[sizeof(T)];
      op_status result;
      {
        wake_list wakes;
        std::lock_guard<spinlock> guard{st.lock()};
        result = st.recv_locked(storage, wakes);
        if (result == op_status::blocked) {
          auto p = park(false);
          st.enqueue_recv_locked(&p->w);
          return caf::delegated<T, bool>{};
        }
      }
      if (result == op_status::closed)
        return {T{}, false};
      auto ptr = std::launder(reinterpret_cast<T*>(storage));
      T value{std::move(*ptr)};
      ptr->~T();
      return {std::move(value), true};
    },
    [self](chan_close_atom) -> caf::result<void> {
      auto& st = *self->state.st;
      bool ok;
      {
        wake_list wakes;
        std::lock_guard<spinlock> guard{st.lock()};
        ok = st.close_locked(wakes);
      }
      if (!ok)
        return to_caf_error(error{errc::close_of_closed});
      return caf::unit;
    },
    [self](chan_len_atom) {
      auto& st = *self->state.st;
      return caf::make_message(st.len(), st.cap());
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
/// the state) and the state do not keep each other alive.
struct chan_identity {
  std::mutex mtx;
  caf::weak_actor_ptr actor;
};

/// Returns the identity slot of `st`, shared by all handles of the channel.
chan_identity& identity_of(chan_core& st);

caf::actor_system& system_of(runtime* rt);

template <class T>
caf::actor chan_actor_of(const std::shared_ptr<chan_state<T>>& st) {
  static_assert(std::is_default_constructible_v<T>,
                "a channel's actor answers (T{}, false) once closed: T must "
                "be default constructible to give a channel an actor identity");
  if (!st)
    throw panic_error{error{errc::misuse, "a nil channel has no actor"}};
  auto& id = identity_of(*st);
  std::lock_guard<std::mutex> guard{id.mtx};
  if (auto strong = id.actor.lock())
    return caf::actor_cast<caf::actor>(strong);
  auto& sys = system_of(st->rt());
  auto result = sys.spawn(chan_actor_impl<T>, st);
  id.actor = caf::actor_cast<caf::weak_actor_ptr>(result);
  return result;
}

template <class T>
caf::actor chan_handle<T>::actor() const {
  return chan_actor_of<T>(st_);
}

} // namespace rotina::detail
