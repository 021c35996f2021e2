// The schema: rotina's keys, declared in CAF's option set, and the rules
// rotina adds to CAF's own options.
//
// Invariants:
// - Every accepted key is an option of config::custom_options_: rotina's
//   (declared in config::config, at most one key_rule each) or CAF's with
//   exactly one key_rule.
// - Every key of known_keys() is documented in docs/config.md with the same
//   default (config_test checks this).

#include <algorithm>
#include <thread>

#include <caf/detail/build_config.hpp>
#include <caf/detail/log_level.hpp>
#include <caf/error.hpp>
#include <caf/make_config_option.hpp>
#include <caf/pec.hpp>

#include "config_detail.hpp"

namespace rotina {

namespace detail {

namespace {

constexpr int64_t no_max = std::numeric_limits<int64_t>::max();

// -- CAF options over rotina's fields -----------------------------------------

// CAF's option_meta_state_instance<T>() keeps its table in a function-local
// static that libcaf_core.so (built by g++) exports as a unique symbol; a
// clang++-built copy then reads a table nobody initialized (a null `check`
// for size_t, seen as a SIGSEGV). This table has internal linkage and the
// same content.
template <class T>
const caf::config_option::meta_state* meta_for() {
  using trait = caf::select_config_value_access_t<T>;
  static const caf::config_option::meta_state obj{
    caf::detail::check_impl<T>, caf::detail::store_impl<T>,
    caf::detail::get_impl<T>, caf::detail::parse_impl_delegate<T>,
    trait::type_name()};
  return &obj;
}

// rotina.shutdown is an enum; load() hands it "wait" or "cancel" as a string.
const caf::config_option::meta_state* shutdown_meta() {
  using caf::config_value;
  static const caf::config_option::meta_state obj{
    [](const config_value& x) -> caf::error {
      auto str = caf::get_if<std::string>(&x);
      if (str != nullptr && (*str == "wait" || *str == "cancel"))
        return caf::none;
      return caf::make_error(caf::pec::type_mismatch);
    },
    [](void* ptr, const config_value& x) {
      *static_cast<shutdown_policy*>(ptr) = caf::get<std::string>(x) == "wait"
                                              ? shutdown_policy::wait
                                              : shutdown_policy::cancel;
    },
    [](const void* ptr) {
      auto x = *static_cast<const shutdown_policy*>(ptr);
      return config_value{std::string{to_string(x)}};
    },
    [](void*, caf::string_view) -> caf::expected<config_value> {
      return caf::make_error(caf::pec::type_mismatch); // load() parses
    },
    "string"};
  return &obj;
}

} // namespace

// -- rules --------------------------------------------------------------------

const std::vector<key_rule>& key_rules() {
  // Meanings are CAF's help texts unless given. [rotina] keys are accepted
  // as declared in config::config (meaning there, default from the field);
  // a row here only adds a range or choices.
  // clang-format off
  static const std::vector<key_rule> result{
    {"rotina.listen-port", {}, {}, 0, 65535},
    {"rotina.shutdown", {}, {}, 0, no_max, {"wait", "cancel"}},
    {"rotina.tls-name-check", {}, {}, 0, no_max, {"cn-or-san", "cn", "san"}},
    {"rotina.max-message-size", {}, {}, 1024},
    {"rotina.max-pending-handshakes", {}, {}, 1},
    {"rotina.placement", {}, {}, 0, no_max, {"round-robin", "least-loaded"}},
    {"scheduler.policy", "\"rotina\"", "scheduler: \"rotina\", or CAF's "
     "\"stealing\" or \"sharing\"", 0, no_max, {"rotina", "stealing", "sharing"}},
    {"scheduler.max-threads", "hardware threads, at least 2", {}, 1, 4096},
    {"scheduler.max-throughput", "unlimited", {}, 1},
    {"scheduler.enable-profiling", "false"},
    {"scheduler.profiling-resolution", "100ms"},
    {"scheduler.profiling-output-file", "\"\""},
    {"work-stealing.aggressive-poll-attempts", "100", {}, 1},
    {"work-stealing.aggressive-steal-interval", "10", {}, 1},
    {"work-stealing.moderate-poll-attempts", "500", {}, 1},
    {"work-stealing.moderate-steal-interval", "5", {}, 1},
    {"work-stealing.moderate-sleep-duration", "50us"},
    {"work-stealing.relaxed-steal-interval", "1", {}, 1},
    {"work-stealing.relaxed-sleep-duration", "10ms"},
    {"middleman.network-backend", "'default'", "network backend (only "
     "'default' in Debian's CAF)", 0, no_max, {"default"}},
    {"middleman.app-identifiers", "[\"generic-caf-app\"]", "identifiers a "
     "peer must share (checked by the connecting side only)"},
    {"middleman.app-identifier", "(unset)"},
    {"middleman.enable-automatic-connections", "false"},
    {"middleman.max-consecutive-reads", "50", {}, 1},
    {"middleman.heartbeat-interval", "0 (rotina.heartbeat-interval when "
     "distributed)", "time between BASP heartbeats (0: off)"},
    {"middleman.connection-timeout", "0 (rotina.heartbeat-timeout when "
     "distributed)", "silence after which a connection is closed (0: off)"},
    {"middleman.attach-utility-actors", "false"},
    {"middleman.manual-multiplexing", "false"},
    {"middleman.workers", "min(3, cores / 4) + 1"},
    {"stream.desired-batch-complexity", "50us"},
    {"stream.max-batch-delay", "5ms"},
    {"stream.credit-round-interval", "10ms"},
  };
  // clang-format on
  return result;
}

const key_rule* find_rule(std::string_view key) {
  for (auto& x : key_rules())
    if (x.key == key)
      return &x;
  static const key_rule any_rotina_key{"rotina.*"};
  return key.rfind("rotina.", 0) == 0 ? &any_rotina_key : nullptr;
}

std::string_view refusal(std::string_view section) {
  if (section == "logger") {
#if CAF_LOG_LEVEL == CAF_LOG_LEVEL_QUIET
    return "CAF was built without logging (CAF_LOG_LEVEL is quiet in "
           "caf/detail/build_config.hpp), so [logger] keys have no effect";
#else
    return {};
#endif
  }
  if (section == "openssl")
    return "rotina does not load CAF's openssl module, so [openssl] keys have "
           "no effect";
  if (section == "opencl")
    return "rotina does not load CAF's opencl module, so [opencl] keys have "
           "no effect";
  return {};
}

std::vector<std::string> known_sections() {
  std::vector<std::string> result;
  for (auto& x : config::known_keys())
    if (std::find(result.begin(), result.end(), x.section) == result.end())
      result.emplace_back(x.section);
  for (auto name : {"logger", "openssl", "opencl"})
    if (!refusal(name).empty())
      result.emplace_back(name);
  return result;
}

std::string full_name(const caf::config_option& opt) {
  auto x = opt.full_name();
  return std::string{x.begin(), x.end()};
}

std::string expected_text(const caf::config_option& opt) {
  auto name = full_name(opt);
  auto rule = find_rule(name);
  auto type = opt.type_name();
  if (rule != nullptr && !rule->choices.empty()) {
    std::string result = "one of ";
    for (size_t i = 0; i < rule->choices.size(); ++i) {
      if (i > 0)
        result += i + 1 == rule->choices.size() ? " or " : ", ";
      result += '"';
      result.append(rule->choices[i]);
      result += '"';
    }
    return result;
  }
  if (name == "rotina.peers")
    return "a list of \"host:port\" strings like [\"127.0.0.1:4301\"]";
  if (type == "boolean")
    return "true or false";
  if (type == "timespan")
    return "a duration like 100ms, 1s or 5min (units: ns, us, ms, s, min, h)";
  if (type == "string")
    return "a string";
  if (type == "atom")
    return "a name of at most 10 characters";
  if (type == "list of string")
    return "a list of strings like [\"a\", \"b\"]";
  if (type == "list of atom")
    return "a list of names like ['caf', 'rotina']";
  auto min = rule != nullptr ? rule->min : 0;
  auto max = rule != nullptr ? rule->max : no_max;
  if (max != no_max)
    return "an integer in " + std::to_string(min) + ".." + std::to_string(max);
  return min == 0 ? "a non-negative integer"
                  : "an integer >= " + std::to_string(min);
}

std::string to_ini(const caf::config_value& x) {
  return caf::to_string(x);
}

} // namespace detail

// -- free functions -----------------------------------------------------------

std::string_view to_string(shutdown_policy x) noexcept {
  return x == shutdown_policy::wait ? "wait" : "cancel";
}

// -- config: the [rotina] keys ------------------------------------------------

config::config()
  : listen_host("127.0.0.1"), listen_port(0), listen(false),
    connect_timeout(std::chrono::seconds{10}),
    request_timeout(std::chrono::seconds{5}),
    heartbeat_interval(std::chrono::milliseconds{500}),
    heartbeat_timeout(std::chrono::seconds{2}), tls_name_check("cn-or-san"),
    insecure(false), handshake_timeout(std::chrono::seconds{5}),
    max_message_size(16 * 1024 * 1024), max_pending_handshakes(64),
    on_shutdown(shutdown_policy::wait),
    shutdown_timeout(std::chrono::seconds{10}), default_capacity(0),
    placement("round-robin"), scheduler_policy("rotina"),
    max_threads(std::max<size_t>(2, std::thread::hardware_concurrency())) {
  // One line per [rotina] key: its field, name and meaning (type and
  // default come from the field).
  auto add
    = [this](auto& field, caf::string_view name, caf::string_view meaning) {
        using type = std::decay_t<decltype(field)>;
        const caf::config_option::meta_state* meta = nullptr;
        if constexpr (std::is_same_v<type, shutdown_policy>)
          meta = detail::shutdown_meta();
        else
          meta = detail::meta_for<type>();
        custom_options_.add(
          caf::config_option{"rotina", name, meaning, meta, &field});
      };
  add(node_name, "node-name",
      "name of this node among peers; empty: \"<hostname>-<pid>\"");
  add(listen_host, "listen-host", "address on which this node accepts peers");
  add(listen_port, "listen-port",
      "TCP port on which this node accepts peers; 0: do not listen, or with "
      "listen = true any free port");
  add(listen, "listen",
      "accept peers even when listen-port is 0 (then on a free port); a "
      "non-zero listen-port always listens");
  add(peers, "peers", "nodes to connect to, as \"host:port\" strings");
  add(connect_timeout, "connect-timeout",
      "how long a connect to a peer (with retries for rotina.peers) may take");
  add(request_timeout, "request-timeout",
      "bound of every request to another node (handshake included)");
  add(heartbeat_interval, "heartbeat-interval",
      "time between heartbeats to peers (0: off); sets "
      "middleman.heartbeat-interval when distributed");
  add(heartbeat_timeout, "heartbeat-timeout",
      "silence after which a peer counts as down; at least 2 x "
      "heartbeat-interval; sets middleman.connection-timeout when distributed");
  add(tls_certificate, "tls-certificate",
      "PEM file with this node's certificate; with tls-key and tls-ca-file: "
      "mutual TLS with every peer");
  add(tls_key, "tls-key", "PEM file with the private key of tls-certificate");
  add(tls_ca_file, "tls-ca-file",
      "PEM file with the CA(s) that peers' certificates must chain to");
  add(tls_name_check, "tls-name-check",
      "which certificate names a peer's node name must match: \"cn-or-san\", "
      "\"cn\" or \"san\"");
  add(insecure, "insecure",
      "allow listening on a non-loopback address without TLS (anyone who "
      "reaches the port is a peer)");
  add(handshake_timeout, "handshake-timeout",
      "how long a new connection may take to finish the handshake");
  add(max_message_size, "max-message-size",
      "largest message in bytes accepted from a peer; a larger one closes "
      "the connection");
  add(max_pending_handshakes, "max-pending-handshakes",
      "incoming connections in their handshake at once; more are closed");
  add(on_shutdown, "shutdown",
      "on shutdown, \"wait\" for live work (up to shutdown-timeout) or "
      "\"cancel\" it at once");
  add(shutdown_timeout, "shutdown-timeout",
      "with shutdown = \"wait\", how long to wait before cancelling");
  add(default_capacity, "default-capacity",
      "channel capacity when none is given (0: unbuffered)");
  add(placement, "placement",
      "where rotina::place puts remote goroutines: \"round-robin\" over the "
      "connected peers or the \"least-loaded\" one");
}

const std::vector<config::key_info>& config::known_keys() {
  static const std::vector<key_info> result = [] {
    config defaults;
    std::vector<key_info> xs;
    auto add
      = [&](const caf::config_option& opt, const detail::key_rule& rule) {
          auto str = [](caf::string_view x) {
            return std::string{x.begin(), x.end()};
          };
          key_info x{str(opt.category()), str(opt.long_name()),
                     detail::expected_text(opt), std::string{rule.default_text},
                     rule.meaning.empty() ? str(opt.description())
                                          : std::string{rule.meaning}};
          if (x.default_value.empty())
            if (auto value = opt.get())
              x.default_value = detail::to_ini(*value);
          xs.push_back(std::move(x));
        };
    for (auto& opt : defaults.custom_options_)
      if (opt.category() == "rotina")
        add(opt, *detail::find_rule(detail::full_name(opt)));
    for (auto& rule : detail::key_rules())
      if (rule.key.rfind("rotina.", 0) != 0)
        if (auto opt = defaults.custom_options_.qualified_name_lookup(
              caf::string_view{rule.key.data(), rule.key.size()}))
          add(*opt, rule);
    return xs;
  }();
  return result;
}

} // namespace rotina
