// How the node layer uses the transport gate (rotina/detail/net_gate.hpp):
// the security settings of a node, the start-up checks that refuse an unsafe
// or broken configuration, and the mapping of the gate's failures to
// connect_errc. Internal.
//
// Invariant: a node whose settings pass check_transport() listens and
// connects only through a gate made from the returned gate settings; a
// non-loopback listener has TLS unless rotina.insecure = true.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <variant>

#include "rotina/detail/net_gate.hpp"
#include "rotina/node.hpp"

namespace rotina::detail {

/// The [rotina] security keys (docs/security.md).
struct transport_settings {
  std::string tls_certificate;
  std::string tls_key;
  std::string tls_ca_file;
  std::string tls_name_check = "cn-or-san";
  bool insecure = false;
  std::chrono::milliseconds handshake_timeout{5000};
  size_t max_message_size = 16 * 1024 * 1024;
  size_t max_pending_handshakes = 64;
};

/// Returns whether `host` names only this machine: 127.0.0.0/8, ::1 or
/// "localhost". Anything else (an empty host or 0.0.0.0 included) counts as
/// reachable from the network.
bool is_loopback(const std::string& host);

/// What check_transport() decided.
struct transport_plan {
  net::gate::settings gate;
  /// Non-empty when the node runs insecurely on purpose (logged at start).
  std::string warning;
};

/// Checks the security settings of node `name` and loads its TLS files.
/// Returns the gate settings, or the reason to refuse to start: one of the
/// three TLS files set without the others (naming the missing keys), a file
/// that cannot be loaded or a key that does not match its certificate
/// (naming the file), or a listener on a non-loopback `listen_host` without
/// TLS and without rotina.insecure (naming the host and the keys to set).
std::variant<transport_plan, std::string>
check_transport(const transport_settings& cfg, const std::string& name,
                bool listen, const std::string& listen_host);

/// Prefix of a refusal that a node sends in the gate handshake: the text of
/// `code`, so that the other side can recover the code.
std::string refusal_text(const connect_error& err);

/// Maps a failed gate connect to rotina's connect_error: refusals made by
/// either side keep the connect_errc their text starts with (see
/// refusal_text); a failed TLS handshake or a foreign protocol is
/// handshake_failed; a refused TCP connect is refused; a timeout timed_out.
connect_error to_connect_error(const net::connect_error& err);

} // namespace rotina::detail
