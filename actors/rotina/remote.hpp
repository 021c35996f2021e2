// Channels across nodes (docs/distribution.md): how a chan<T>, send_chan<T> or
// recv_chan<T> handle crosses to another node and works there with the same
// API. Opt-in (brings CAF's headers): include it where handles are published,
// looked up, or sent over channels and as arguments of remote goroutines.
//
// A handle crosses as a remote_handle (owner node, incarnation, the channel's
// actor, element type name, capacity); the receiving node builds a remote core
// (detail/remote_chan.hpp) that forwards every operation to the owner, where
// it meets the local parties in the one channel core: Go's rendezvous,
// buffering, FIFO service and close rules hold because only the owner decides.
#pragma once

#include <chrono>
#include <string>

#include <caf/binary_serializer.hpp>

#include "rotina/chan_actor.hpp"
#include "rotina/detail/remote_chan.hpp"
#include "rotina/result.hpp"
#include "rotina/type_registry.hpp"

namespace rotina::detail {

// -- element type names -------------------------------------------------------

/// The wire name of element type T: "chan<...>" for channel handles, else
/// rotina::wire_name<T>() ("" if T cannot cross).
template <class T>
struct wire_type_name {
  static std::string get() {
    return wire_name<T>();
  }
};

template <class U>
struct wire_type_name<chan<U>> {
  static std::string get() {
    auto inner = wire_type_name<U>::get();
    return inner.empty() ? inner : "chan<" + inner + ">";
  }
};

template <class U>
struct wire_type_name<send_chan<U>> {
  static std::string get() {
    auto inner = wire_type_name<U>::get();
    return inner.empty() ? inner : "send_chan<" + inner + ">";
  }
};

template <class U>
struct wire_type_name<recv_chan<U>> {
  static std::string get() {
    auto inner = wire_type_name<U>::get();
    return inner.empty() ? inner : "recv_chan<" + inner + ">";
  }
};

// -- the typed half of a remote core
// --------------------------------------------

/// How long a proxy keeps credit it does not use before giving it back (so a
/// producer that stopped does not keep the owner's slots from local senders).
inline constexpr auto linger_interval = std::chrono::milliseconds{20};

template <class T>
struct proxy_state {
  std::shared_ptr<remote_state> st;
  static inline const char* name = "rotina.chan_proxy";
};

/// The proxy of one remote channel handle: the identity under which the
/// handle's operations reach the owner (sent straight from the calling
/// thread), and the mailbox of their answers, which complete the parked
/// operations.
template <class T>
caf::behavior proxy_impl(caf::stateful_actor<proxy_state<T>>* self,
                         std::shared_ptr<remote_state> st) {
  self->state.st = st;
  self->monitor(st->handle.actor);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = *self->state.st;
    auto why = dm.reason == caf::exit_reason::remote_link_unreachable
                 ? std::string{"the connection to its node was lost"}
                 : "its actor exited (" + caf::to_string(dm.reason) + ")";
    s.fail_all(error{errc::node_down, s.desc + " is gone: " + why});
  });
  using W = wire_t<T>;
  return {
    [self](rc_sent_atom, uint64_t seq, bool ok, uint64_t credit) {
      auto& st = *self->state.st;
      if (st.add_credit(credit))
        self->delayed_send(self, linger_interval, rc_linger_atom::value,
                           uint64_t{0});
      st.complete(seq, ok);
    },
    [self](rc_flush_atom) {
      auto& st = *self->state.st;
      std::lock_guard<std::mutex> guard{st.mtx};
      st.flush_locked();
    },
    [self](rc_ready_atom, uint64_t seq) { self->state.st->fire_watch(seq); },
    [self](rc_linger_atom, uint64_t seen) {
      if (auto next = self->state.st->linger(seen))
        self->delayed_send(self, linger_interval, rc_linger_atom::value, *next);
    },
    [self](rc_value_atom, uint64_t seq, W& value, bool ok) {
      auto& st = *self->state.st;
      auto& rt = st.get_runtime();
      st.complete(seq, ok, [&](void* slot) {
        new (slot) T(wire_traits<T>::from(std::move(value), rt));
      });
    },
  };
}

template <class T>
struct remote_ops_of {
  static caf::actor spawn_proxy(runtime& rt, std::shared_ptr<remote_state> st) {
    return rt.system().spawn(proxy_impl<T>, std::move(st));
  }

  static void post_send(remote_state& st, uint64_t seq, void* value) {
    auto& rt = st.get_runtime();
    // Straight from the sending goroutine's thread to the owner, under the
    // proxy's identity: the answer goes to the proxy.
    caf::send_as(st.proxy, st.handle.actor, rc_send_atom::value, seq,
                 wire_traits<T>::to(std::move(*static_cast<T*>(value)), rt));
  }

  static void append_push(remote_state& st, void* value) {
    auto& rt = st.get_runtime();
    auto wire = wire_traits<T>::to(std::move(*static_cast<T*>(value)), rt);
    caf::binary_serializer sink{rt.system(), st.batch};
    if (auto err = sink(wire))
      throw panic_error{error{errc::misuse, "cannot serialize a value for "
                                              + st.desc + ": "
                                              + caf::to_string(err)}};
    ++st.batch_count;
  }

  static op_status decode(remote_state& st, uint8_t code) {
    switch (static_cast<try_code>(code)) {
    case try_code::done:
      return op_status::done;
    case try_code::closed:
      return op_status::closed;
    default:
      (void)st;
      return op_status::blocked;
    }
  }

  static error failure(remote_state& st, const caf::error& err) {
    if (err == caf::sec::request_timeout)
      return error{errc::node_down,
                   st.desc + " did not answer within rotina.request-timeout"};
    auto e = from_caf_error(err);
    return error{errc::node_down, st.desc + " failed: " + e.message()};
  }

  static op_status try_send(remote_state& st, void* value) {
    auto& rt = st.get_runtime();
    auto wire = wire_traits<T>::to(std::move(*static_cast<T*>(value)), rt);
    caf::scoped_actor self{rt.system()};
    op_status result = op_status::blocked;
    std::optional<error> fault;
    self
      ->request(st.handle.actor, rt.request_timeout(),
                chan_try_send_atom::value, std::move(wire))
      .receive([&](uint8_t code) { result = decode(st, code); },
               [&](caf::error& err) { fault = failure(st, err); });
    if (fault) {
      // Unknown whether the value arrived: poison the handle (no replay).
      st.fail_all(*fault);
      st.check_fault();
    }
    return result;
  }

  static op_status try_recv(remote_state& st, void* out) {
    auto& rt = st.get_runtime();
    caf::scoped_actor self{rt.system()};
    op_status result = op_status::blocked;
    std::optional<error> fault;
    self
      ->request(st.handle.actor, rt.request_timeout(),
                chan_try_recv_atom::value)
      .receive(
        [&](wire_t<T>& value, uint8_t code) {
          result = decode(st, code);
          if (result == op_status::done)
            new (out) T(wire_traits<T>::from(std::move(value), rt));
        },
        [&](caf::error& err) { fault = failure(st, err); });
    if (fault) {
      st.fail_all(*fault);
      st.check_fault();
    }
    return result;
  }

  static inline const remote_ops table{&spawn_proxy, &post_send, &append_push,
                                       &try_send, &try_recv};
};

// -- conversions
// ----------------------------------------------------------------

/// The remote_handle of a channel handle of kind `kind`.
template <class T>
remote_handle to_remote_handle_impl(runtime& rt, const chan_ref& st,
                                    const char* kind) {
  static_assert(std::is_default_constructible_v<T>,
                "a channel that crosses nodes needs a default-constructible "
                "element type");
  if (!st)
    throw panic_error{error{errc::misuse,
                            "a nil channel cannot cross nodes (Go: a nil "
                            "channel value has no identity to send)"}};
  auto type = wire_type_name<T>::get();
  if (type.empty())
    throw panic_error{
      error{errc::misuse,
            std::string{"a channel whose element type ("} + typeid(T).name()
              + ") is not registered cannot cross nodes: call "
                "rotina::register_type<T>(\"name\") on every node"}};
  if (auto h = remote_handle_of(*st.get())) {
    auto copy = *h;
    copy.kind = kind;
    return copy;
  }
  auto actor = chan_actor_of<T>(st);
  export_chan(rt, actor, st);
  remote_handle h;
  h.kind = kind;
  h.type = std::move(type);
  h.actor = std::move(actor);
  h.owner = rt.self().name;
  h.incarnation = rt.self().incarnation;
  h.cap = st->cap();
  return h;
}

/// Checks that `h` may become a handle of kind `kind` over T; returns the
/// error otherwise ("" when it may).
template <class T>
std::string check_remote_handle(const remote_handle& h, const char* kind) {
  auto want = wire_type_name<T>::get();
  std::string k = kind;
  // Go's assignability of channel types: a bidirectional channel may become
  // a send-only or receive-only one, never the other way.
  bool kind_ok = h.kind == k || (h.kind == "chan" && k != "chan");
  if (h.type == want && kind_ok)
    return {};
  return "it is a " + h.kind + "<" + h.type + "> of node '" + h.owner
         + "', not a " + k + "<" + (want.empty() ? typeid(T).name() : want)
         + ">";
}

template <class T>
chan_ref from_remote_handle_impl(runtime& rt, remote_handle h) {
  return make_remote_chan(rt, elem_type_of<T>, remote_ops_of<T>::table,
                          std::move(h));
}

template <class U>
remote_handle wire_traits<chan<U>>::to(chan<U>&& x, runtime& rt) {
  if (!x.state())
    return {}; // Go: a nil channel is a value too; from() makes it nil again
  return to_remote_handle_impl<U>(rt, x.state(), "chan");
}

template <class U>
chan<U> wire_traits<chan<U>>::from(remote_handle&& x, runtime& rt) {
  if (!x.actor)
    return {};
  if (auto err = check_remote_handle<U>(x, "chan"); !err.empty())
    throw panic_error{error{errc::type_mismatch, "a received channel: " + err}};
  return chan<U>{from_remote_handle_impl<U>(rt, std::move(x))};
}

template <class U>
remote_handle wire_traits<send_chan<U>>::to(send_chan<U>&& x, runtime& rt) {
  if (!x.state())
    return {}; // Go: a nil channel is a value too; from() makes it nil again
  return to_remote_handle_impl<U>(rt, x.state(), "send_chan");
}

template <class U>
send_chan<U> wire_traits<send_chan<U>>::from(remote_handle&& x, runtime& rt) {
  if (!x.actor)
    return {};
  if (auto err = check_remote_handle<U>(x, "send_chan"); !err.empty())
    throw panic_error{error{errc::type_mismatch, "a received channel: " + err}};
  return send_chan<U>{chan<U>{from_remote_handle_impl<U>(rt, std::move(x))}};
}

template <class U>
remote_handle wire_traits<recv_chan<U>>::to(recv_chan<U>&& x, runtime& rt) {
  if (!x.state())
    return {}; // Go: a nil channel is a value too; from() makes it nil again
  return to_remote_handle_impl<U>(rt, x.state(), "recv_chan");
}

template <class U>
recv_chan<U> wire_traits<recv_chan<U>>::from(remote_handle&& x, runtime& rt) {
  if (!x.actor)
    return {};
  if (auto err = check_remote_handle<U>(x, "recv_chan"); !err.empty())
    throw panic_error{error{errc::type_mismatch, "a received channel: " + err}};
  return recv_chan<U>{chan<U>{from_remote_handle_impl<U>(rt, std::move(x))}};
}

} // namespace rotina::detail

namespace rotina {

// -- runtime::publish / runtime::lookup of channel handles
// ----------------------

/// The handle `rt.publish(name, ch)` enters in the directory.
template <class T>
detail::remote_handle to_remote_handle(runtime& rt, const chan<T>& ch) {
  return detail::to_remote_handle_impl<T>(rt, ch.state(), "chan");
}

template <class T>
detail::remote_handle to_remote_handle(runtime& rt, const send_chan<T>& ch) {
  return detail::to_remote_handle_impl<T>(rt, ch.state(), "send_chan");
}

template <class T>
detail::remote_handle to_remote_handle(runtime& rt, const recv_chan<T>& ch) {
  return detail::to_remote_handle_impl<T>(rt, ch.state(), "recv_chan");
}

/// What `rt.lookup<chan<T>>(peer, name)` returns for a found handle.
template <class T>
result<chan<T>> from_remote_handle(runtime& rt, chan<T>*,
                                   detail::remote_handle h,
                                   const std::string& what) {
  if (auto err = detail::check_remote_handle<T>(h, "chan"); !err.empty())
    return error{errc::type_mismatch, what + ": " + err};
  return chan<T>{detail::from_remote_handle_impl<T>(rt, std::move(h))};
}

template <class T>
result<send_chan<T>> from_remote_handle(runtime& rt, send_chan<T>*,
                                        detail::remote_handle h,
                                        const std::string& what) {
  if (auto err = detail::check_remote_handle<T>(h, "send_chan"); !err.empty())
    return error{errc::type_mismatch, what + ": " + err};
  return send_chan<T>{
    chan<T>{detail::from_remote_handle_impl<T>(rt, std::move(h))}};
}

template <class T>
result<recv_chan<T>> from_remote_handle(runtime& rt, recv_chan<T>*,
                                        detail::remote_handle h,
                                        const std::string& what) {
  if (auto err = detail::check_remote_handle<T>(h, "recv_chan"); !err.empty())
    return error{errc::type_mismatch, what + ": " + err};
  return recv_chan<T>{
    chan<T>{detail::from_remote_handle_impl<T>(rt, std::move(h))}};
}

/// Whether `ch` is a handle to a channel of another node (a user cannot
/// otherwise tell, except by speed and by errc::node_down).
template <class T>
bool is_remote(const detail::chan_handle<T>& ch) noexcept {
  return ch.state() && ch.state()->local() == nullptr;
}

} // namespace rotina
