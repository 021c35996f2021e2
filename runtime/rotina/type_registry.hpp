// rotina::register_type: the process-wide list of message types that may cross
// nodes.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/type_nr.hpp>

namespace rotina {

namespace detail {

/// Adds a registration (name, type, how to add it to a CAF config). Throws
/// panic_error on a registration after a runtime was created, an empty name,
/// a name used for another type, or a type registered under another name.
void register_type_impl(
  std::string name, std::type_index type,
  std::function<void(caf::actor_system_config&, const std::string&)> add);

/// Returns whether `type` was registered.
bool is_registered_impl(std::type_index type) noexcept;

/// Returns the name `type` was registered under, or "" if it was not.
std::string registered_name_impl(std::type_index type);

/// Adds every registered type to `cfg` and freezes the registry (later
/// register_type calls fail). Called by each runtime before its actor system
/// starts.
void apply_registered_types(caf::actor_system_config& cfg);

} // namespace detail

/// register_type adds `T` to the message types every runtime of this process
/// can send to and receive from other nodes, under `name`: Go's
/// gob.Register(value). `T` needs a CAF 0.17 inspect() overload
/// (`f(caf::meta::type_name("name"), x.a, x.b)`), a default constructor and
/// equality.
///
/// Call it before the first runtime is created (e.g. at the start of main):
/// the registry is process-wide and freezes when a runtime starts, so a later
/// call throws rotina::panic_error ("register_type<T>(\"name\") after a
/// runtime started ..."). Registering the same type under the same name again
/// is a no-op; the same name for another type, or another name for the same
/// type, throws panic_error.
///
/// Every node must register the same names: the handshake compares a SHA-256
/// fingerprint of the sorted names (registered_types_fingerprint) and refuses
/// a peer whose fingerprint differs (connect_errc::fingerprint_mismatch).
///
/// Deviation from Go: gob registers lazily and per encoder; CAF needs each
/// type before the actor system starts.
template <class T>
void register_type(std::string name) {
  static_assert(caf::detail::is_inspectable<caf::serializer, T>::value,
                "register_type<T> needs an inspect() overload for T");
  detail::register_type_impl(
    std::move(name), std::type_index{typeid(T)},
    [](caf::actor_system_config& cfg, const std::string& n) {
      cfg.add_message_type<T>(n);
    });
}

/// Returns whether a value of type `T` can cross nodes: it was registered with
/// register_type, or it is one of CAF's built-in types (integers, strings,
/// atoms, actor handles, caf::message, ...). A sender should refuse any other
/// type at the sender, because CAF 0.17 delivers an unknown type as an empty
/// message.
template <class T>
bool is_registered() noexcept {
  return caf::type_nr<T>::value != 0
         || detail::is_registered_impl(std::type_index{typeid(T)});
}

/// Returns the name under which a value of type `T` crosses nodes: its
/// registered name, CAF's name of a built-in type ("@i32", "@str", ...), or
/// "" if it cannot cross.
template <class T>
std::string wire_name() {
  if constexpr (caf::type_nr<T>::value != 0)
    return caf::numbered_type_names[caf::type_nr<T>::value - 1];
  else
    return detail::registered_name_impl(std::type_index{typeid(T)});
}

/// Returns the sorted names of every registered type.
std::vector<std::string> registered_types();

/// Returns the hex SHA-256 of the sorted registered names, each followed by
/// '\n' (the hash of the empty string when nothing is registered).
std::string registered_types_fingerprint();

} // namespace rotina
