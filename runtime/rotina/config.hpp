#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

namespace rotina {

/// config_error is thrown for every configuration error: a missing or
/// unreadable file, a syntax error, an unknown section or key, a value of the
/// wrong type or out of range. what() names where the problem is ("FILE:LINE"
/// or "command line"), the key and what was expected, for example
/// "config/default.ini:12: unknown key 'rotina.listen-prot' in [rotina]; did
/// you mean 'listen-port'?".
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What runtime::shutdown does with work that is still running.
enum class shutdown_policy {
  /// Wait until no work is live or `shutdown-timeout` passes, then cancel.
  wait,
  /// Cancel at once.
  cancel,
};

/// Returns "wait" or "cancel".
std::string_view to_string(shutdown_policy x) noexcept;

/// Where a runtime takes its settings from.
struct options {
  /// Path of an INI file in CAF 0.17 syntax. Empty: no file, built-in defaults
  /// only. (The argv constructor of runtime falls back to the environment
  /// variable ROTINA_CONFIG; this struct never does.)
  std::string config_file;

  /// Overrides applied after the file, each "section.key=value" (a leading
  /// "--" is allowed), for example "rotina.listen-port=4300" or
  /// "scheduler.max-threads=2". Values use the INI syntax and are validated
  /// exactly like file entries.
  std::vector<std::string> overrides;
};

/// config holds the framework's settings. It is a caf::actor_system_config:
/// CAF's keys ([scheduler], [middleman], ...) live in `content` as usual;
/// rotina's keys are declared in CAF's option set (`custom_options_`, category
/// "rotina") with the typed fields below as their storage, so each value is
/// held once.
///
/// load() reads files with CAF's own INI parser. Unlike CAF 0.17, which
/// ignores unknown keys and ill-typed values, it checks every key against the
/// option set (plus rotina's ranges and cross-key rules), refuses keys that
/// would have no effect, and throws config_error on the first problem.
/// docs/config.md lists every key.
class config : public caf::actor_system_config {
public:
  // -- member types -----------------------------------------------------------

  /// Describes one key that load() accepts.
  struct key_info {
    /// Section name without brackets, e.g. "rotina" or "scheduler".
    std::string section;
    /// Key name inside the section, e.g. "listen-port".
    std::string name;
    /// Human-readable type, e.g. "integer in 0..65535".
    std::string type;
    /// Default value in INI syntax, e.g. "0" or "\"127.0.0.1\"".
    std::string default_value;
    /// One-line meaning.
    std::string meaning;
  };

  // -- constructors, destructors, and assignment operators --------------------

  /// Constructs a config holding the documented defaults. Declares the
  /// [rotina] keys in CAF's option set: a new key is one `add` there (in
  /// runtime/src/config_schema.cpp) plus its row in docs/config.md.
  config();

  // -- [rotina] keys ----------------------------------------------------------

  /// rotina.node-name: this node's name among peers. Default "", which the
  /// runtime resolves to "<hostname>-<pid>" at startup.
  std::string node_name;

  /// rotina.listen-host: address to accept peers on. Default "127.0.0.1".
  std::string listen_host;

  /// rotina.listen-port: TCP port to accept peers on. Default 0: do not
  /// listen, or with `listen = true` any free port.
  uint16_t listen_port;

  /// rotina.listen: accept peers even when listen-port is 0 (then on a free
  /// port, reported by runtime::self()). Default false.
  bool listen;

  /// rotina.peers: "host:port" strings of nodes to connect to. Default empty.
  std::vector<std::string> peers;

  /// rotina.connect-timeout: bound of one connect to a peer, retries for
  /// rotina.peers included. Default 10s.
  caf::timespan connect_timeout;

  /// rotina.request-timeout: bound of every request to another node,
  /// handshake included. Default 5s.
  caf::timespan request_timeout;

  /// rotina.heartbeat-interval: default 500ms. Becomes
  /// middleman.heartbeat-interval when distribution is used (a node-name, a
  /// listen port, listen = true, or peers) and that key is not set
  /// explicitly.
  caf::timespan heartbeat_interval;

  /// rotina.heartbeat-timeout: default 2s, at least 2 x heartbeat-interval.
  /// Becomes middleman.connection-timeout like the interval above.
  caf::timespan heartbeat_timeout;

  /// rotina.tls-certificate: PEM file with this node's certificate (and
  /// chain). Default "": no TLS. tls-certificate, tls-key and tls-ca-file are
  /// set all three or none (docs/security.md).
  std::string tls_certificate;

  /// rotina.tls-key: PEM file with the certificate's private key. Default "".
  std::string tls_key;

  /// rotina.tls-ca-file: PEM file with the CA(s) that peers' certificates
  /// must chain to. Default "".
  std::string tls_ca_file;

  /// rotina.tls-name-check: which names of a peer's certificate its claimed
  /// node name must match: "cn-or-san" (default), "cn" or "san".
  std::string tls_name_check;

  /// rotina.insecure: allow listening on a non-loopback address without TLS
  /// (every host that reaches the port can then act as a peer). Default
  /// false.
  bool insecure;

  /// rotina.handshake-timeout: how long a new connection may take to finish
  /// rotina's handshake (TLS included). Default 5s.
  caf::timespan handshake_timeout;

  /// rotina.max-message-size: largest message (bytes) accepted from a peer;
  /// a larger announcement closes the connection. Default 16 MiB.
  size_t max_message_size;

  /// rotina.max-pending-handshakes: incoming connections that may be in
  /// their handshake at once; more are closed at once. Default 64.
  size_t max_pending_handshakes;

  /// rotina.shutdown: "wait" (default) or "cancel"; see runtime::shutdown.
  shutdown_policy on_shutdown;

  /// rotina.shutdown-timeout: default 10s; with policy wait, live work is
  /// cancelled after this long.
  caf::timespan shutdown_timeout;

  /// rotina.default-capacity: channel capacity when none is given. Default 0
  /// (unbuffered, like Go's make(chan T)).
  size_t default_capacity;

  /// rotina.placement: how rotina::place picks the node of the next remote
  /// goroutine: "round-robin" (default) or "least-loaded".
  std::string placement;

  /// scheduler.policy: "rotina" (default), "stealing" or "sharing" (a copy
  /// of CAF's setting, which holds the same name as an atom). "testing" is
  /// refused: it needs CAF's test coordinator, which rotina does not drive.
  std::string scheduler_policy;

  /// scheduler.max-threads: worker threads (a copy of CAF's setting).
  /// Default: hardware threads, at least 2.
  size_t max_threads;

  // -- operations -------------------------------------------------------------

  /// Reads `opts.config_file` (when not empty), then applies
  /// `opts.overrides`, validates every key and cross-key rule and stores the
  /// result in this config. Throws config_error on the first problem and then
  /// leaves this config unchanged.
  void load(const options& opts);

  /// CAF's load<Module>() and load<IdBlock>() stay available.
  using caf::actor_system_config::load;

  /// Returns the value of `key` ("section.name") or `fallback` when the key
  /// is unset or holds another type: a [rotina] key reads its typed field,
  /// any other key CAF's `content`. Integers read as `int64_t`, durations as
  /// `caf::timespan`, CAF's atoms as `caf::atom_value`.
  template <class T>
  T get(std::string_view key, T fallback) const {
    if (auto x = value_of(key))
      if (auto ptr = caf::get_if<T>(&*x))
        return *ptr;
    return fallback;
  }

  /// Returns the value of `key` ("section.name"), or nothing when it is unset.
  std::optional<caf::config_value> value_of(std::string_view key) const;

  /// Writes every key with its effective value and origin ("FILE:LINE",
  /// "command line" or "default") in INI syntax; `--dump-config` prints this.
  void dump(std::ostream& out) const;

  /// Returns where the value of `key` ("section.name") came from:
  /// "FILE:LINE", "command line" or "default".
  std::string source_of(std::string_view key) const;

  /// Returns whether distribution is configured (a listen port or peers).
  bool distributed() const noexcept {
    return listen_port != 0 || !peers.empty();
  }

  // -- schema -----------------------------------------------------------------

  /// Returns every key load() accepts, in documentation order.
  static const std::vector<key_info>& known_keys();

  /// Returns whether a section-less flag `name` (from "--name=value") looks
  /// meant for rotina: it names a key of any section, is a near miss of one,
  /// or is the unique last word of one ("threads" for "max-threads").
  static bool is_key_or_typo(std::string_view name);

  /// Returns the option set (CAF's keys and rotina's).
  const caf::config_option_set& option_set() const noexcept {
    return custom_options_;
  }

private:
  std::map<std::string, std::string, std::less<>> sources_;
};

} // namespace rotina
