// Validation of rotina's configuration.
//
// CAF 0.17 silently ignores unknown keys and ill-typed values. rotina instead
// reads the INI file itself (ini.cpp), checks every entry against the schema
// below, applies cross-key rules, and only then stores the values: rotina's
// own keys in the typed fields of `config` (and in `content` under "rotina."),
// CAF's keys through actor_system_config::set, which CAF reads when the
// actor_system starts.
//
// Invariants:
// - Every key in `specs()` is documented in docs/config.md (a unit test
//   checks this) with the same default.
// - load() either stores every value or throws and stores nothing.

#include "rotina/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <thread>

#include <caf/atom.hpp>
#include <caf/config_value.hpp>
#include <caf/settings.hpp>

#include "ini.hpp"

namespace rotina {

namespace {

using namespace std::chrono_literals;

using detail::ini_value;
using kind = ini_value::kind;

constexpr uint64_t no_max = std::numeric_limits<uint64_t>::max();

// -- schema -------------------------------------------------------------------

enum class vtype {
  string,      // any string; quoted, atom-quoted or a bare word
  atom,        // CAF atom (at most 10 characters), optionally from `choices`
  uint,        // integer in [min, max]
  boolean,     // true or false
  timespan,    // non-negative duration (or the integer 0)
  string_list, // list of strings
  atom_list,   // list of atoms
  peers,       // list of "host:port" strings
};

struct key_spec {
  const char* section;
  const char* name;
  vtype type;
  const char* default_text;
  const char* meaning;
  uint64_t min = 0;
  uint64_t max = no_max;
  std::vector<std::string_view> choices = {};
};

const char* rotina_section = "rotina";

const std::vector<key_spec>& specs() {
  static const std::vector<std::string_view> verbosities{
    "quiet", "error", "warning", "info", "debug", "trace"};
  static const std::vector<key_spec> result{
    // -- [rotina] --
    {"rotina", "node-name", vtype::string, "\"\"",
     "name of this node among peers; empty: \"<hostname>-<pid>\""},
    {"rotina", "listen-host", vtype::string, "\"127.0.0.1\"",
     "address on which this node accepts peers"},
    {"rotina", "listen-port", vtype::uint, "0",
     "TCP port on which this node accepts peers; 0: do not listen, or with "
     "listen = true any free port",
     0, 65535},
    {"rotina", "listen", vtype::boolean, "false",
     "accept peers even when listen-port is 0 (then on a free port); a "
     "non-zero listen-port always listens"},
    {"rotina", "peers", vtype::peers, "[]",
     "nodes to connect to, as \"host:port\" strings"},
    {"rotina", "connect-timeout", vtype::timespan, "10s",
     "how long a connect to a peer (with retries for rotina.peers) may take"},
    {"rotina", "request-timeout", vtype::timespan, "5s",
     "bound of every request to another node (handshake included)"},
    {"rotina", "heartbeat-interval", vtype::timespan, "500ms",
     "time between heartbeats to peers (0: off); sets "
     "middleman.heartbeat-interval when distributed"},
    {"rotina", "heartbeat-timeout", vtype::timespan, "2s",
     "silence after which a peer counts as down; at least 2 x "
     "heartbeat-interval; sets middleman.connection-timeout when distributed"},
    {"rotina",
     "shutdown",
     vtype::atom,
     "\"wait\"",
     "on shutdown, \"wait\" for live work (up to shutdown-timeout) or "
     "\"cancel\" it at once",
     0,
     no_max,
     {"wait", "cancel"}},
    {"rotina", "shutdown-timeout", vtype::timespan, "10s",
     "with shutdown = \"wait\", how long to wait before cancelling"},
    {"rotina", "default-capacity", vtype::uint, "0",
     "channel capacity when none is given (0: unbuffered)", 0,
     std::numeric_limits<int64_t>::max()},
    // -- [scheduler] --
    {"scheduler",
     "policy",
     vtype::atom,
     "\"rotina\"",
     "scheduler: \"rotina\", or CAF's \"stealing\", \"sharing\", \"testing\"",
     0,
     no_max,
     {"rotina", "stealing", "sharing", "testing"}},
    {"scheduler", "max-threads", vtype::uint, "hardware threads, at least 2",
     "number of worker threads", 1, 4096},
    {"scheduler", "max-throughput", vtype::uint, "unlimited",
     "messages an actor may handle per scheduling round", 1,
     std::numeric_limits<int64_t>::max()},
    {"scheduler", "enable-profiling", vtype::boolean, "false",
     "CAF's profiled scheduler (stealing or sharing only)"},
    {"scheduler", "profiling-resolution", vtype::timespan, "100ms",
     "sampling rate of the profiler"},
    {"scheduler", "profiling-output-file", vtype::string, "\"\"",
     "output file of the profiler"},
    // -- [work-stealing] --
    {"work-stealing", "aggressive-poll-attempts", vtype::uint, "100",
     "steal attempts before backing off", 1,
     std::numeric_limits<int64_t>::max()},
    {"work-stealing", "aggressive-steal-interval", vtype::uint, "10",
     "polls between steal attempts in the aggressive phase", 1,
     std::numeric_limits<int64_t>::max()},
    {"work-stealing", "moderate-poll-attempts", vtype::uint, "500",
     "polls in the moderate phase", 1, std::numeric_limits<int64_t>::max()},
    {"work-stealing", "moderate-steal-interval", vtype::uint, "5",
     "polls between steal attempts in the moderate phase", 1,
     std::numeric_limits<int64_t>::max()},
    {"work-stealing", "moderate-sleep-duration", vtype::timespan, "50us",
     "sleep between polls in the moderate phase"},
    {"work-stealing", "relaxed-steal-interval", vtype::uint, "1",
     "polls between steal attempts in the relaxed phase", 1,
     std::numeric_limits<int64_t>::max()},
    {"work-stealing", "relaxed-sleep-duration", vtype::timespan, "10ms",
     "sleep between polls in the relaxed phase"},
    // -- [logger] --
    {"logger", "verbosity", vtype::atom, "\"quiet\"",
     "default verbosity of file and console log", 0, no_max, verbosities},
    {"logger", "file-name", vtype::string,
     "\"actor_log_[PID]_[TIMESTAMP]_[NODE].log\"", "path of the log file"},
    {"logger", "file-format", vtype::string,
     "\"%r %c %p %a %t %C %M %F:%L %m%n\"", "line format of the log file"},
    {"logger", "file-verbosity", vtype::atom, "\"quiet\"",
     "verbosity of the log file", 0, no_max, verbosities},
    {"logger",
     "console",
     vtype::atom,
     "\"none\"",
     "log to std::clog: \"none\", \"colored\" or \"uncolored\"",
     0,
     no_max,
     {"none", "colored", "uncolored"}},
    {"logger", "console-format", vtype::string, "\"%m\"",
     "line format of console log"},
    {"logger", "console-verbosity", vtype::atom, "\"quiet\"",
     "verbosity of console log", 0, no_max, verbosities},
    {"logger", "component-blacklist", vtype::atom_list, "[]",
     "log components to leave out"},
    {"logger", "inline-output", vtype::boolean, "false",
     "log without a logger thread (testing only)"},
    // -- [middleman] --
    {"middleman",
     "network-backend",
     vtype::atom,
     "\"default\"",
     "network backend (only \"default\" in Debian's CAF)",
     0,
     no_max,
     {"default"}},
    {"middleman", "app-identifiers", vtype::string_list,
     "[\"generic-caf-app\"]",
     "identifiers a peer must share (checked by the connecting side only)"},
    {"middleman", "app-identifier", vtype::string, "(unset)",
     "deprecated single-value form of app-identifiers"},
    {"middleman", "enable-automatic-connections", vtype::boolean, "false",
     "connect directly to nodes learned through peers"},
    {"middleman", "max-consecutive-reads", vtype::uint, "50",
     "reads per broker before yielding", 1,
     std::numeric_limits<int64_t>::max()},
    {"middleman", "heartbeat-interval", vtype::timespan,
     "0 (rotina.heartbeat-interval when distributed)",
     "time between BASP heartbeats (0: off)"},
    {"middleman", "connection-timeout", vtype::timespan,
     "0 (rotina.heartbeat-timeout when distributed)",
     "silence after which a connection is closed (0: off)"},
    {"middleman", "attach-utility-actors", vtype::boolean, "false",
     "schedule utility actors instead of giving them threads"},
    {"middleman", "manual-multiplexing", vtype::boolean, "false",
     "no background multiplexer thread (testing only)"},
    {"middleman", "workers", vtype::uint, "min(3, cores / 4) + 1",
     "threads deserializing incoming messages", 0,
     std::numeric_limits<int64_t>::max()},
    // -- [stream] --
    {"stream", "desired-batch-complexity", vtype::timespan, "50us",
     "processing time per stream batch"},
    {"stream", "max-batch-delay", vtype::timespan, "5ms",
     "maximum delay of a partial stream batch"},
    {"stream", "credit-round-interval", vtype::timespan, "10ms",
     "time between stream credit rounds"},
    // -- [openssl] --
    {"openssl", "certificate", vtype::string, "\"\"",
     "PEM certificate of this node (needs the openssl module)"},
    {"openssl", "key", vtype::string, "\"\"", "private key of this node"},
    {"openssl", "passphrase", vtype::string, "\"\"",
     "passphrase of the private key"},
    {"openssl", "capath", vtype::string, "\"\"",
     "directory of trusted CA certificates"},
    {"openssl", "cafile", vtype::string, "\"\"",
     "file of trusted CA certificates"},
  };
  return result;
}

std::string full_name(const key_spec& x) {
  std::string result = x.section;
  result += '.';
  result += x.name;
  return result;
}

const key_spec* find_spec(std::string_view section, std::string_view name) {
  for (auto& x : specs())
    if (section == x.section && name == x.name)
      return &x;
  return nullptr;
}

// -- did you mean -------------------------------------------------------------

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    auto diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      auto up = row[j];
      auto cost = a[i - 1] == b[j - 1] ? 0u : 1u;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

// Returns the candidate closest to `x` if it is close enough to be a typo.
std::optional<std::string> closest(std::string_view x,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_dist = std::max<size_t>(2, x.size() / 3) + 1;
  for (auto& c : candidates) {
    auto d = edit_distance(x, c);
    if (d < best_dist) {
      best_dist = d;
      best = c;
    }
  }
  return best;
}

std::vector<std::string> known_sections() {
  std::vector<std::string> result;
  for (auto& x : specs())
    if (std::find(result.begin(), result.end(), x.section) == result.end())
      result.emplace_back(x.section);
  return result;
}

// -- error messages -----------------------------------------------------------

[[noreturn]] void fail(std::string_view where, std::string_view what) {
  std::string msg{where};
  msg += ": ";
  msg.append(what);
  throw config_error(msg);
}

[[noreturn]] void fail_unknown(std::string_view where, std::string_view section,
                               std::string_view name) {
  auto sections = known_sections();
  std::string msg;
  if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
    msg = "unknown section [";
    msg.append(section);
    msg += "]";
    if (auto guess = closest(section, sections))
      msg += "; did you mean [" + *guess + "]?";
    else
      msg += "; known sections: " + [&] {
        std::string all;
        for (auto& s : sections)
          all += (all.empty() ? "[" : ", [") + s + "]";
        return all;
      }();
    fail(where, msg);
  }
  msg = "unknown key '";
  msg.append(section);
  msg += '.';
  msg.append(name);
  msg += "' in [";
  msg.append(section);
  msg += "]";
  std::vector<std::string> names;
  for (auto& x : specs())
    if (section == x.section)
      names.emplace_back(x.name);
  if (auto guess = closest(name, names)) {
    msg += "; did you mean '" + *guess + "'?";
  } else {
    // Right key, wrong section?
    for (auto& x : specs())
      if (name == x.name) {
        msg += "; did you mean '" + full_name(x) + "'?";
        break;
      }
  }
  fail(where, msg);
}

std::string expected(const key_spec& x) {
  switch (x.type) {
  case vtype::string:
    return "a string";
  case vtype::atom:
    if (!x.choices.empty()) {
      std::string result = "one of ";
      for (size_t i = 0; i < x.choices.size(); ++i) {
        if (i > 0)
          result += i + 1 == x.choices.size() ? " or " : ", ";
        result += '"';
        result.append(x.choices[i]);
        result += '"';
      }
      return result;
    }
    return "a name of at most 10 characters";
  case vtype::uint:
    if (x.max == no_max
        || x.max == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return x.min == 0 ? "a non-negative integer"
                        : "an integer >= " + std::to_string(x.min);
    return "an integer in " + std::to_string(x.min) + ".."
           + std::to_string(x.max);
  case vtype::boolean:
    return "true or false";
  case vtype::timespan:
    return "a duration like 100ms, 1s or 5min (units: ns, us, ms, s, min, "
           "h, d)";
  case vtype::string_list:
    return "a list of strings like [\"a\", \"b\"]";
  case vtype::atom_list:
    return "a list of names like ['caf', 'rotina']";
  case vtype::peers:
    return "a list of \"host:port\" strings like [\"127.0.0.1:4301\"]";
  }
  return "a value";
}

[[noreturn]] void fail_value(std::string_view where, const key_spec& spec,
                             const ini_value& got,
                             std::string_view detail = {}) {
  std::string msg = "invalid value for '" + full_name(spec) + "': ";
  if (detail.empty())
    msg += "expected " + expected(spec);
  else
    msg.append(detail);
  msg += ", got ";
  msg += got.text;
  fail(where, msg);
}

// -- conversion ---------------------------------------------------------------

bool is_stringish(const ini_value& x) {
  return x.type == kind::string || x.type == kind::atom || x.type == kind::word;
}

// Validates one "host:port" peer; returns an error text or nothing.
std::optional<std::string> check_peer(std::string_view x) {
  auto colon = x.rfind(':');
  if (colon == std::string_view::npos)
    return "missing ':port'";
  auto host = x.substr(0, colon);
  auto port = x.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2); // IPv6 literal
  else if (host.find(':') != std::string_view::npos)
    return "write IPv6 hosts in brackets, e.g. \"[::1]:4301\"";
  if (host.empty())
    return "missing host";
  for (char c : host)
    if (std::isspace(static_cast<unsigned char>(c)))
      return "host contains whitespace";
  if (port.empty() || port.size() > 5
      || !std::all_of(port.begin(), port.end(),
                      [](char c) { return c >= '0' && c <= '9'; }))
    return "port must be an integer in 1..65535";
  auto num = std::stoul(std::string{port});
  if (num < 1 || num > 65535)
    return "port must be an integer in 1..65535";
  return std::nullopt;
}

caf::config_value convert(std::string_view where, const key_spec& spec,
                          const ini_value& x) {
  switch (spec.type) {
  case vtype::string:
    if (!is_stringish(x))
      fail_value(where, spec, x);
    return caf::config_value{x.str};
  case vtype::atom: {
    if (!is_stringish(x))
      fail_value(where, spec, x);
    if (!spec.choices.empty()) {
      if (std::find(spec.choices.begin(), spec.choices.end(), x.str)
          == spec.choices.end())
        fail_value(where, spec, x);
    } else if (x.str.empty() || x.str.size() > 10) {
      fail_value(where, spec, x);
    }
    // Atoms are stored as strings for rotina's keys and as atoms for CAF's.
    if (std::string_view{spec.section} == rotina_section
        || std::string_view{spec.name} == "policy")
      return caf::config_value{x.str};
    return caf::config_value{caf::atom_from_string(x.str)};
  }
  case vtype::uint:
    if (x.type != kind::integer || x.integer_overflow || x.integer < 0
        || static_cast<uint64_t>(x.integer) < spec.min
        || static_cast<uint64_t>(x.integer) > spec.max)
      fail_value(where, spec, x);
    return caf::config_value{x.integer};
  case vtype::boolean:
    if (x.type != kind::boolean)
      fail_value(where, spec, x);
    return caf::config_value{x.boolean};
  case vtype::timespan:
    if (x.type == kind::integer && x.integer == 0 && !x.integer_overflow)
      return caf::config_value{caf::timespan{0}};
    if (x.type != kind::duration)
      fail_value(where, spec, x);
    if (x.duration.count() < 0)
      fail_value(where, spec, x, "expected a non-negative duration");
    return caf::config_value{x.duration};
  case vtype::string_list:
  case vtype::atom_list:
  case vtype::peers: {
    if (x.type != kind::list)
      fail_value(where, spec, x);
    caf::config_value::list items;
    for (auto& item : x.items) {
      if (!is_stringish(item))
        fail_value(where, spec, x,
                   "expected " + expected(spec) + "; element " + item.text
                     + " is " + std::string{detail::describe(item.type)});
      if (spec.type == vtype::peers) {
        if (auto err = check_peer(item.str))
          fail_value(where, spec, x, "bad peer \"" + item.str + "\": " + *err);
        items.emplace_back(item.str);
      } else if (spec.type == vtype::atom_list) {
        if (item.str.empty() || item.str.size() > 10)
          fail_value(where, spec, x,
                     "names in this list have 1 to 10 characters");
        items.emplace_back(caf::atom_from_string(item.str));
      } else {
        items.emplace_back(item.str);
      }
    }
    return caf::config_value{std::move(items)};
  }
  }
  fail_value(where, spec, x);
}

// -- staging ------------------------------------------------------------------

struct staged_value {
  const key_spec* spec;
  caf::config_value value;
  std::string where;
};

// Keyed by "section.name".
using staging = std::map<std::string, staged_value, std::less<>>;

void stage_file(const std::string& path, staging& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail(path, "cannot read config file: is a directory");
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    auto err = errno;
    fail(path, std::string{"cannot open config file: "}
                 + (err != 0 ? std::strerror(err) : "unknown error"));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    fail(path, "cannot read config file");
  auto text = buf.str();
  auto entries = detail::parse_ini(text, path);
  std::map<std::string, int, std::less<>> first_seen;
  for (auto& entry : entries) {
    auto where = path + ":" + std::to_string(entry.line);
    auto spec = find_spec(entry.section, entry.key);
    if (spec == nullptr) {
      // Unknown sections are reported at their header line.
      auto sections = known_sections();
      if (std::find(sections.begin(), sections.end(), entry.section)
          == sections.end())
        where = path + ":" + std::to_string(entry.section_line);
      fail_unknown(where, entry.section, entry.key);
    }
    auto name = full_name(*spec);
    if (auto [i, added] = first_seen.emplace(name, entry.line); !added)
      fail(where, "duplicate key '" + name + "' (first set on line "
                    + std::to_string(i->second) + ")");
    out[name] = staged_value{spec, convert(where, *spec, entry.value), where};
  }
}

void stage_override(std::string_view arg, staging& out) {
  const std::string where = "command line";
  auto text = arg;
  if (text.substr(0, 2) == "--")
    text.remove_prefix(2);
  if (text.substr(0, 4) == "caf#")
    text.remove_prefix(4);
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    fail(where,
         "expected '--section.key=value', got '" + std::string{arg} + "'");
  auto key = text.substr(0, eq);
  auto value_text = text.substr(eq + 1);
  std::string_view section = rotina_section;
  auto dot = key.find('.');
  if (dot != std::string_view::npos) {
    section = key.substr(0, dot);
    key = key.substr(dot + 1);
  }
  auto spec = find_spec(section, key);
  if (spec == nullptr)
    fail_unknown(where, section, key);
  auto name = full_name(*spec);
  auto value = detail::parse_ini_value(value_text, where + " (--" + name + ")");
  out[name] = staged_value{spec, convert(where, *spec, value), where};
}

template <class T>
T staged_or(const staging& xs, std::string_view name, T fallback) {
  if (auto i = xs.find(name); i != xs.end())
    if (auto ptr = caf::get_if<T>(&i->second.value))
      return *ptr;
  return fallback;
}

std::string where_of(const staging& xs, std::string_view name) {
  if (auto i = xs.find(name); i != xs.end())
    return i->second.where;
  return "default";
}

std::string to_text(caf::timespan x) {
  return caf::deep_to_string(x);
}

size_t default_max_threads() {
  return std::max<size_t>(2, std::thread::hardware_concurrency());
}

} // namespace

// -- free functions -----------------------------------------------------------

std::string_view to_string(shutdown_policy x) noexcept {
  return x == shutdown_policy::wait ? "wait" : "cancel";
}

// -- config -------------------------------------------------------------------

config::config()
  : listen_host("127.0.0.1"), listen_port(0), heartbeat_interval(500ms),
    heartbeat_timeout(2s), on_shutdown(shutdown_policy::wait),
    shutdown_timeout(10s), default_capacity(0), scheduler_policy("rotina"),
    max_threads(default_max_threads()) {
  // nop
}

void config::load(const options& opts) {
  // 1) Read and type-check everything into a staging area.
  staging xs;
  if (!opts.config_file.empty())
    stage_file(opts.config_file, xs);
  for (auto& arg : opts.overrides)
    stage_override(arg, xs);
  // 2) Compute the typed fields.
  auto node = staged_or<std::string>(xs, "rotina.node-name", node_name);
  auto host = staged_or<std::string>(xs, "rotina.listen-host", listen_host);
  auto port = static_cast<uint16_t>(
    staged_or<int64_t>(xs, "rotina.listen-port", listen_port));
  auto peer_list = peers;
  if (auto i = xs.find("rotina.peers"); i != xs.end()) {
    peer_list.clear();
    for (auto& item : caf::get<caf::config_value::list>(i->second.value))
      peer_list.emplace_back(caf::get<std::string>(item));
  }
  auto hb_interval = staged_or<caf::timespan>(xs, "rotina.heartbeat-interval",
                                              heartbeat_interval);
  auto hb_timeout = staged_or<caf::timespan>(xs, "rotina.heartbeat-timeout",
                                             heartbeat_timeout);
  auto policy = on_shutdown;
  if (auto str = staged_or<std::string>(xs, "rotina.shutdown", "");
      !str.empty())
    policy = str == "wait" ? shutdown_policy::wait : shutdown_policy::cancel;
  auto sd_timeout
    = staged_or<caf::timespan>(xs, "rotina.shutdown-timeout", shutdown_timeout);
  auto capacity = static_cast<size_t>(staged_or<int64_t>(
    xs, "rotina.default-capacity", static_cast<int64_t>(default_capacity)));
  auto sched = staged_or<std::string>(xs, "scheduler.policy", scheduler_policy);
  auto threads = static_cast<size_t>(staged_or<int64_t>(
    xs, "scheduler.max-threads", static_cast<int64_t>(max_threads)));
  // 3) Cross-key rules.
  for (auto& [name, x] : xs) {
    if (name == "rotina.node-name" || name == "rotina.listen-host") {
      auto& str = caf::get<std::string>(x.value);
      if (name == "rotina.listen-host" && str.empty())
        fail(x.where, "invalid value for '" + name
                        + "': expected a host name or address, got \"\"");
      if (std::any_of(str.begin(), str.end(), [](char c) {
            return std::isspace(static_cast<unsigned char>(c));
          }))
        fail(x.where, "invalid value for '" + name
                        + "': expected no whitespace, got \"" + str + "\"");
    }
  }
  if (hb_interval.count() > 0 && hb_timeout < 2 * hb_interval) {
    auto where = where_of(xs, "rotina.heartbeat-timeout");
    if (where == "default")
      where = where_of(xs, "rotina.heartbeat-interval");
    fail(where, "invalid value for 'rotina.heartbeat-timeout': must be at "
                "least 2 x rotina.heartbeat-interval ("
                  + to_text(hb_interval) + "), got " + to_text(hb_timeout));
  }
  // A named node may also connect at run time (runtime::connect).
  bool distributed = port != 0 || !peer_list.empty() || !node.empty()
                     || staged_or<bool>(xs, "rotina.listen", false);
  auto mm_interval
    = staged_or<caf::timespan>(xs, "middleman.heartbeat-interval",
                               distributed ? hb_interval : caf::timespan{0});
  auto mm_timeout
    = staged_or<caf::timespan>(xs, "middleman.connection-timeout",
                               distributed ? hb_timeout : caf::timespan{0});
  if (mm_interval.count() > 0 && mm_timeout.count() > 0
      && mm_timeout < 2 * mm_interval) {
    auto where = where_of(xs, "middleman.connection-timeout");
    if (where == "default")
      where = where_of(xs, "middleman.heartbeat-interval");
    fail(where, "invalid value for 'middleman.connection-timeout': must be "
                "at least 2 x middleman.heartbeat-interval ("
                  + to_text(mm_interval) + "), got " + to_text(mm_timeout));
  }
  if (sched == "testing" && xs.count("scheduler.enable-profiling")
      && caf::get<bool>(xs.find("scheduler.enable-profiling")->second.value))
    fail(where_of(xs, "scheduler.enable-profiling"),
         "invalid value for 'scheduler.enable-profiling': the profiler needs "
         "scheduler.policy \"stealing\" or \"sharing\", got true");
  // 4) Commit: nothing below throws config_error.
  node_name = std::move(node);
  listen_host = std::move(host);
  listen_port = port;
  peers = std::move(peer_list);
  heartbeat_interval = hb_interval;
  heartbeat_timeout = hb_timeout;
  on_shutdown = policy;
  shutdown_timeout = sd_timeout;
  default_capacity = capacity;
  scheduler_policy = std::move(sched);
  max_threads = threads;
  for (auto& [name, x] : xs) {
    if (std::string_view{x.spec->section} == rotina_section) {
      // CAF's set() knows only registered options: store rotina keys as is
      // (the typed ones are overwritten below).
      content["rotina"].as_dictionary()[std::string{x.spec->name}] = x.value;
      continue;
    }
    if (name == "scheduler.policy" || name == "scheduler.max-threads")
      continue;
    set(name, x.value);
  }
  // "rotina" runs CAF's stealing policy unless the runtime loads the rotina
  // scheduler module, which replaces CAF's scheduler regardless of this key.
  set("scheduler.policy", scheduler_policy == "rotina"
                            ? caf::atom("stealing")
                            : caf::atom_from_string(scheduler_policy));
  set("scheduler.max-threads", static_cast<int64_t>(max_threads));
  if (distributed) {
    set("middleman.heartbeat-interval", mm_interval);
    set("middleman.connection-timeout", mm_timeout);
  }
  auto& section = content["rotina"].as_dictionary();
  section["node-name"] = caf::config_value{node_name};
  section["listen-host"] = caf::config_value{listen_host};
  section["listen-port"] = caf::config_value{static_cast<int64_t>(listen_port)};
  caf::config_value::list peer_values;
  for (auto& p : peers)
    peer_values.emplace_back(p);
  section["peers"] = caf::config_value{std::move(peer_values)};
  section["heartbeat-interval"] = caf::config_value{heartbeat_interval};
  section["heartbeat-timeout"] = caf::config_value{heartbeat_timeout};
  section["shutdown"] = caf::config_value{std::string{to_string(on_shutdown)}};
  section["shutdown-timeout"] = caf::config_value{shutdown_timeout};
  section["default-capacity"]
    = caf::config_value{static_cast<int64_t>(default_capacity)};
  sources_.clear();
  for (auto& [name, x] : xs)
    sources_.emplace(name, x.where);
}

std::string config::source_of(std::string_view key) const {
  if (auto i = sources_.find(key); i != sources_.end())
    return i->second;
  return "default";
}

bool config::is_key_or_typo(std::string_view section, std::string_view name) {
  if (find_spec(section, name) != nullptr)
    return true;
  std::vector<std::string> names;
  for (auto& x : specs())
    if (section == x.section)
      names.emplace_back(x.name);
  return closest(name, names).has_value();
}

const std::vector<config::key_info>& config::known_keys() {
  static const std::vector<key_info> result = [] {
    std::vector<key_info> xs;
    for (auto& x : specs())
      xs.push_back(
        key_info{x.section, x.name, expected(x), x.default_text, x.meaning});
    return xs;
  }();
  return result;
}

} // namespace rotina
