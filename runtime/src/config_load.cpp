// config::load: type and range checks on top of CAF's option set, cross-key
// rules, and the commit into the typed fields (rotina's keys) and `content`
// (CAF's keys).
//
// Invariants:
// - load() either stores every value or throws and stores nothing.
// - After load(), sources_ names the origin of every key that was set.

#include <algorithm>

#include <caf/atom.hpp>
#include <caf/settings.hpp>

#include "config_detail.hpp"

namespace rotina {

namespace {

using namespace detail;

struct staged {
  const caf::config_option* opt;
  caf::config_value value;
  std::string text;
  std::string where;
};

// Keyed by "section.name".
using staging = std::map<std::string, staged, std::less<>>;

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

std::optional<std::string> name_of(const caf::config_value& x) {
  if (auto str = caf::get_if<std::string>(&x))
    return *str;
  if (auto atm = caf::get_if<caf::atom_value>(&x))
    return caf::to_string(*atm);
  return std::nullopt;
}

// Returns "an integer", "a list", ...
std::string kind_of(const caf::config_value& x) {
  std::string name = x.type_name();
  return (name.find_first_of("aeiou") == 0 ? "an " : "a ") + name;
}

// Returns `x.value` converted to the option's type, or throws.
caf::config_value checked(const entry& x) {
  auto& opt = *x.opt;
  auto name = full_name(opt);
  auto rule = find_rule(name);
  auto type = opt.type_name();
  auto value = x.value;
  auto bad = [&](std::string_view detail = {}) {
    fail_value(x.where, opt, x.text, detail);
  };
  if (type == "atom" || type == "string") {
    auto str = name_of(value);
    if (!str || (type == "atom" && (str->empty() || str->size() > 10)))
      bad();
    if (!rule->choices.empty()
        && std::find(rule->choices.begin(), rule->choices.end(), *str)
             == rule->choices.end()) {
      if (name == "scheduler.policy" && *str == "testing")
        fail(x.where, "invalid value for 'scheduler.policy': 'testing' needs "
                      "CAF's test coordinator, which rotina does not drive");
      bad();
    }
    value = type == "atom" ? caf::config_value{caf::atom_from_string(*str)}
                           : caf::config_value{*str};
  } else if (type == "timespan") {
    if (auto i = caf::get_if<int64_t>(&value); i && *i == 0)
      value = caf::timespan{0};
    auto t = caf::get_if<caf::timespan>(&value);
    if (t == nullptr)
      bad();
    if (t->count() < 0)
      bad("expected a non-negative duration");
  } else if (type.compare(0, 8, "list of ") == 0) {
    auto xs = caf::get_if<caf::config_value::list>(&value);
    if (xs == nullptr)
      bad();
    for (auto& item : *xs) {
      auto str = name_of(item);
      if (!str)
        bad("expected " + expected_text(opt) + "; element " + to_ini(item)
            + " is " + kind_of(item));
      if (name == "rotina.peers")
        if (auto err = check_peer(*str))
          bad("bad peer \"" + *str + "\": " + *err);
      if (type == "list of atom" && (str->empty() || str->size() > 10))
        bad("names in this list have 1 to 10 characters");
      item = type == "list of atom"
               ? caf::config_value{caf::atom_from_string(*str)}
               : caf::config_value{*str};
    }
  } else if (type != "boolean") { // an integer type
    auto i = caf::get_if<int64_t>(&value);
    if (i == nullptr || *i < rule->min || *i > rule->max)
      bad();
  }
  if (opt.check(value))
    bad();
  return value;
}

template <class T>
T staged_or(const staging& xs, std::string_view name, T fallback) {
  if (auto i = xs.find(name); i != xs.end())
    if (auto ptr = caf::get_if<T>(&i->second.value))
      return *ptr;
  return fallback;
}

std::string where_of(const staging& xs, std::string_view name,
                     std::string_view other = {}) {
  if (auto i = xs.find(name); i != xs.end())
    return i->second.where;
  if (auto i = xs.find(other); !other.empty() && i != xs.end())
    return i->second.where;
  return "default";
}

// Timeout at least twice the interval (when the interval is not 0).
void check_twice(const staging& xs, std::string_view interval_key,
                 caf::timespan interval, std::string_view timeout_key,
                 caf::timespan timeout) {
  if (interval.count() > 0 && timeout - interval < interval) // no overflow
    fail(where_of(xs, timeout_key, interval_key),
         "invalid value for '" + std::string{timeout_key}
           + "': must be at least 2 x " + std::string{interval_key} + " ("
           + caf::deep_to_string(interval) + "), got "
           + caf::deep_to_string(timeout));
}

} // namespace

void config::load(const options& opts) {
  // 1) Read and type-check everything into a staging area.
  staging xs;
  auto stage = [&](entry&& x) {
    auto value = checked(x);
    xs[full_name(*x.opt)] = staged{x.opt, std::move(value), x.text, x.where};
  };
  if (!opts.config_file.empty())
    read_file(opts.config_file, custom_options_, stage);
  for (auto& arg : opts.overrides)
    read_override(arg, custom_options_, stage);
  // 2) Cross-key rules.
  for (auto key : {"rotina.node-name", "rotina.listen-host"}) {
    auto i = xs.find(key);
    if (i == xs.end())
      continue;
    auto& str = caf::get<std::string>(i->second.value);
    if (str.empty() && std::string_view{key} == "rotina.listen-host")
      fail(i->second.where, "invalid value for 'rotina.listen-host': expected "
                            "a host name or address, got \"\"");
    if (std::any_of(str.begin(), str.end(), [](char c) {
          return std::isspace(static_cast<unsigned char>(c));
        }))
      fail(i->second.where, "invalid value for '" + std::string{key}
                              + "': expected no whitespace, got \"" + str
                              + "\"");
  }
  auto hb_interval
    = staged_or(xs, "rotina.heartbeat-interval", heartbeat_interval);
  auto hb_timeout
    = staged_or(xs, "rotina.heartbeat-timeout", heartbeat_timeout);
  check_twice(xs, "rotina.heartbeat-interval", hb_interval,
              "rotina.heartbeat-timeout", hb_timeout);
  auto port = staged_or<int64_t>(xs, "rotina.listen-port", listen_port);
  auto peer_count = peers.size();
  if (auto i = xs.find("rotina.peers"); i != xs.end())
    peer_count = caf::get<caf::config_value::list>(i->second.value).size();
  // A named node may also connect at run time (runtime::connect).
  auto name = staged_or(xs, "rotina.node-name", node_name);
  bool distributed = port != 0 || peer_count > 0 || !name.empty()
                     || staged_or(xs, "rotina.listen", listen);
  auto mm_interval = staged_or(xs, "middleman.heartbeat-interval",
                               distributed ? hb_interval : caf::timespan{0});
  auto mm_timeout = staged_or(xs, "middleman.connection-timeout",
                              distributed ? hb_timeout : caf::timespan{0});
  if (mm_timeout.count() > 0) // 0: CAF never times out
    check_twice(xs, "middleman.heartbeat-interval", mm_interval,
                "middleman.connection-timeout", mm_timeout);
  auto policy = caf::to_string(
    staged_or(xs, "scheduler.policy", caf::atom_from_string(scheduler_policy)));
  for (auto& [name, x] : xs) {
    auto refused = "key '" + name + "' is refused: only CAF's \"stealing\" ";
    auto current = ", and scheduler.policy is \"" + policy + "\"";
    if (name.rfind("work-stealing.", 0) == 0 && policy != "stealing")
      fail(x.where, refused + "scheduler reads [work-stealing]" + current);
    bool profiler = name.rfind("scheduler.profiling-", 0) == 0
                    || name == "scheduler.enable-profiling";
    if (profiler && policy == "rotina")
      fail(x.where, refused + "and \"sharing\" schedulers profile" + current);
  }
  // 3) Commit: nothing below throws.
  for (auto& [name, x] : xs) {
    if (x.opt->get())
      x.opt->store(x.value); // a [rotina] key: its field is the storage
    else
      caf::put(content, name, x.value);
  }
  scheduler_policy = policy;
  max_threads = static_cast<size_t>(staged_or<int64_t>(
    xs, "scheduler.max-threads", static_cast<int64_t>(max_threads)));
  caf::put(content, "scheduler.policy", caf::atom_from_string(policy));
  caf::put(content, "scheduler.max-threads", static_cast<int64_t>(max_threads));
  sources_.clear();
  for (auto& [name, x] : xs)
    sources_.emplace(name, x.where);
  if (distributed) {
    caf::put(content, "middleman.heartbeat-interval", mm_interval);
    caf::put(content, "middleman.connection-timeout", mm_timeout);
    sources_.emplace("middleman.heartbeat-interval",
                     "from rotina.heartbeat-interval");
    sources_.emplace("middleman.connection-timeout",
                     "from rotina.heartbeat-timeout");
    // Deserialize on the multiplexer thread: with CAF's BASP workers (jobs
    // of the same scheduler) an answer from another node is read only when a
    // worker is free, so goroutines waiting in bounded requests on every
    // worker (a remote try_send, close, len) would wait for themselves.
    if (xs.find("middleman.workers") == xs.end()) {
      caf::put(content, "middleman.workers", int64_t{0});
      sources_.emplace("middleman.workers",
                       "rotina: 0 on a node (answers from other nodes are "
                       "read without a scheduler worker)");
    }
  }
}

std::optional<caf::config_value> config::value_of(std::string_view key) const {
  caf::string_view name{key.data(), key.size()};
  if (auto opt = custom_options_.qualified_name_lookup(name))
    if (auto x = opt->get())
      return std::move(*x);
  if (auto x = caf::get_if(&content, name))
    return *x;
  return std::nullopt;
}

std::string config::source_of(std::string_view key) const {
  if (auto i = sources_.find(key); i != sources_.end())
    return i->second;
  return "default";
}

} // namespace rotina
