// rotina::detail::remote_handle: how a handle to a rotina object (a channel
// today; wait groups and contexts later) crosses nodes. Internal: the typed
// handles convert to and from it (<rotina/remote.hpp>).
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

namespace rotina::detail {

/// A handle to an object that lives on one node (its owner) and is served by
/// one actor there. Registered with CAF by every runtime (as
/// "rotina.remote_handle"), so it is part of every node's type table.
struct remote_handle {
  /// What the handle names: "chan" for a channel.
  std::string kind;
  /// The element type's wire name (registered name, or CAF's name of a
  /// built-in type such as "@i32"; "chan<...>" for a channel of channels).
  std::string type;
  /// The actor that serves the object on its owner node.
  caf::actor actor;
  /// The owner's node name and incarnation.
  std::string owner;
  uint64_t incarnation = 0;
  /// A channel's capacity.
  uint64_t cap = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_handle& x) {
  return f(caf::meta::type_name("rotina.remote_handle"), x.kind, x.type,
           x.actor, x.owner, x.incarnation, x.cap);
}

inline bool operator==(const remote_handle& x, const remote_handle& y) {
  return x.kind == y.kind && x.type == y.type && x.actor == y.actor
         && x.owner == y.owner && x.incarnation == y.incarnation
         && x.cap == y.cap;
}

} // namespace rotina::detail
