#pragma once

// Internal to runtime/src/config_*.cpp, rotina's config layer:
//   config_schema.cpp   rotina's keys (declared in CAF's option set), the
//                       rules rotina adds to CAF's keys, known_keys()
//   config_messages.cpp did-you-mean and the wording of errors
//   config_read*.cpp    files and overrides through CAF's INI parser
//   config_load.cpp     config::load: checks, cross-key rules, commit
//   config_dump.cpp     --dump-config
//
// The schema is CAF's: custom_options_ of caf::actor_system_config holds
// every key with its type and help text, rotina's keys included. A key_rule
// adds what a CAF option cannot say: a documented default, a range, choices.

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/config_option.hpp>
#include <caf/config_option_set.hpp>
#include <caf/config_value.hpp>

#include "rotina/config.hpp"

namespace rotina::detail {

// -- schema (config_schema.cpp) -----------------------------------------------

/// What rotina adds to one option of CAF's option set.
struct key_rule {
  std::string_view key; // "section.name"
  /// INI text ("1s") or prose ("unlimited"); empty: the value of the option's
  /// storage (rotina's keys).
  std::string_view default_text = {};
  std::string_view meaning = {}; // empty: CAF's help text
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
  std::vector<std::string_view> choices = {}; // empty: any
};

/// Returns the rules of CAF's accepted keys (in documentation order) and of
/// the [rotina] keys that have a range or choices.
const std::vector<key_rule>& key_rules();

/// Returns the rule of `key` ("section.name"), or null if it is not accepted
/// (every [rotina] key is: an empty rule when it has none).
const key_rule* find_rule(std::string_view key);

/// Returns why rotina refuses the keys of [section] (empty: it does not).
std::string_view refusal(std::string_view section);

/// Returns the sections that load() knows (accepted or refused).
std::vector<std::string> known_sections();

/// Returns what `opt` accepts, e.g. "an integer in 0..65535".
std::string expected_text(const caf::config_option& opt);

std::string full_name(const caf::config_option& opt);

std::string to_ini(const caf::config_value& x);

// -- messages (config_messages.cpp) -------------------------------------------

[[noreturn]] void fail(std::string_view where, std::string_view what);

/// Throws "unknown section", "key ... is refused" (with why) or "unknown
/// key" with the closest name; `cli` writes a key of another section as a
/// flag ("--a.b").
[[noreturn]] void fail_unknown(std::string_view where, std::string_view section,
                               std::string_view name, bool cli = false);

/// Throws "invalid value for 'KEY': expected ..., got TEXT" (or `detail`
/// instead of "expected ...").
[[noreturn]] void fail_value(std::string_view where,
                             const caf::config_option& opt,
                             std::string_view got,
                             std::string_view detail = {});

/// Returns the candidate closest to `x` if it is close enough to be a typo.
std::optional<std::string> closest(std::string_view x,
                                   const std::vector<std::string>& candidates);

// -- reading (config_read.cpp) ------------------------------------------------

/// One `key = value` as the user wrote it.
struct entry {
  const caf::config_option* opt;
  caf::config_value value;
  std::string text;  // as written
  std::string where; // "FILE:LINE" or "command line"
};

using entry_handler = std::function<void(entry&&)>;

/// Reads `path` with CAF's INI parser and calls `f` for every entry in file
/// order. Throws config_error on the first problem (also one `f` throws).
void read_file(const std::string& path, const caf::config_option_set& opts,
               const entry_handler& f);

/// Parses one "--section.key=value" override and calls `f`.
void read_override(std::string_view arg, const caf::config_option_set& opts,
                   const entry_handler& f);

} // namespace rotina::detail
