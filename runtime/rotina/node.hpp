// rotina::node: a process with a rotina::runtime, seen from its peers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rotina {

// -- node ---------------------------------------------------------------------

/// node names one process with a rotina::runtime: its configured name
/// (`rotina.node-name`, which rotina trusts instead of CAF's host+pid node id),
/// the address it listens on (`port` is 0 when it does not listen) and its
/// incarnation, a random number drawn when the runtime starts.
///
/// There is no Go counterpart (Go has no nodes). Two nodes are equal when all
/// four fields are equal, so a restarted process with the same name is a
/// different node: watches of the old one (runtime::on_node_down) are not
/// carried over to it.
struct node {
  /// The configured node name, unique among connected peers.
  std::string name;

  /// The host the node listens on (rotina.listen-host).
  std::string host;

  /// The port the node listens on; 0 if it does not listen.
  uint16_t port = 0;

  /// Random number that tells apart two processes with the same name.
  uint64_t incarnation = 0;

  /// Returns "name@host:port".
  std::string to_string() const;

  friend bool operator==(const node& x, const node& y) noexcept {
    return x.incarnation == y.incarnation && x.port == y.port
           && x.name == y.name && x.host == y.host;
  }

  friend bool operator!=(const node& x, const node& y) noexcept {
    return !(x == y);
  }

  /// Orders by name, then host, port and incarnation.
  friend bool operator<(const node& x, const node& y) noexcept;

  friend std::ostream& operator<<(std::ostream& out, const node& x) {
    return out << x.to_string();
  }
};

// -- errors -------------------------------------------------------------------

/// Why a connection to a peer failed (runtime::connect, rotina.peers).
enum class connect_errc : uint8_t {
  none = 0,
  /// Nothing accepted the TCP connection (nothing listens there).
  refused,
  /// The peer did not complete the connection within rotina.connect-timeout
  /// (it is frozen, overloaded or unreachable).
  timed_out,
  /// The TCP connection was made but rotina's handshake failed: the peer is
  /// not a rotina node, TLS failed (no certificate, another CA, expired, or
  /// only one side uses TLS), a node name does not match its certificate,
  /// BASP's handshake failed after rotina's, or the peer's agent did not
  /// answer within rotina.request-timeout. The message says which.
  handshake_failed,
  /// The peer's name equals this node's name or the name of another connected
  /// peer.
  name_taken,
  /// The peers speak different rotina protocol versions.
  version_mismatch,
  /// The failure-detection settings (heartbeat interval and timeout) differ.
  settings_mismatch,
  /// The registered message types differ (type_registry.hpp).
  fingerprint_mismatch,
  /// This node cannot connect: rotina.node-name is not set, or the runtime is
  /// shutting down.
  not_configured,
};

/// Returns the name of `code` ("refused", "timed out", ...).
const char* to_string(connect_errc code) noexcept;

/// connect_error says why a connect failed: a code and a message naming both
/// sides' values, e.g. "node name 'b' is taken: 'b' (127.0.0.1:4302) is
/// connected, 'b' (127.0.0.1:4310) was refused".
struct connect_error {
  connect_errc code = connect_errc::none;
  std::string message;

  /// Returns "<code>: <message>".
  std::string to_string() const;
};

/// node_error is thrown when a runtime cannot start its node (for example its
/// listen port is taken, or it listens without a rotina.node-name).
class node_error : public std::runtime_error {
public:
  explicit node_error(connect_error err)
    : std::runtime_error(err.to_string()), err_(std::move(err)) {
    // nop
  }

  const connect_error& err() const noexcept {
    return err_;
  }

private:
  connect_error err_;
};

/// connect_result is the outcome of runtime::connect: the peer or why not.
/// Like Go's `(node, error)` pair; test it with `if (res)`.
class connect_result {
public:
  connect_result(node x) : value_(std::move(x)) {
    // nop
  }

  connect_result(connect_error err) : value_(std::move(err)) {
    // nop
  }

  explicit operator bool() const noexcept {
    return value_.index() == 0;
  }

  /// Returns the peer. Precondition: `*this` holds a node.
  const node& value() const {
    return std::get<node>(value_);
  }

  const node& operator*() const {
    return value();
  }

  const node* operator->() const {
    return &value();
  }

  /// Returns the error, or an error with code none on success.
  connect_error error() const {
    if (auto ptr = std::get_if<connect_error>(&value_))
      return *ptr;
    return {};
  }

private:
  std::variant<node, connect_error> value_;
};

// -- watches ------------------------------------------------------------------

/// Identifies one registration of runtime::on_node_down (0 is none).
using node_watch = uint64_t;

} // namespace rotina

template <>
struct std::hash<rotina::node> {
  size_t operator()(const rotina::node& x) const noexcept;
};
