#pragma once

// Internal: a strict reader for CAF 0.17's INI syntax. It only tokenizes and
// types values; which keys exist and what they accept is config.cpp's job.
//
// Grammar (one entry per line, lists may span lines):
//   file    := { line }
//   line    := ws [ section | entry ] ws [ comment ] newline
//   section := '[' name ']'
//   entry   := name ws '=' ws value
//   comment := ';' any-text
//   value   := string | atom | list | number | duration | bool | word
//   string  := '"' { char | '\' escape } '"'
//   atom    := "'" { char } "'"
//   list    := '[' [ value { ',' value } [ ',' ] ] ']'
//   number  := ['-'|'+'] digits [ '.' digits ] | '0x' hexdigits
//   duration:= integer ( 'ns' | 'us' | 'ms' | 's' | 'min' | 'h' | 'd' )
//   bool    := 'true' | 'false'
//   word    := any other run of characters up to whitespace, ',', ']' or ';'
//              (accepted where a string is expected, e.g. listen-host=::1)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/timespan.hpp>

namespace rotina::detail {

/// One typed value as written by the user.
struct ini_value {
  enum class kind {
    string,   // "..."
    atom,     // '...'
    word,     // unquoted text that is no number, duration or bool
    integer,  // 42, -1, 0x10
    floating, // 1.5
    boolean,  // true, false
    duration, // 100ms
    list,     // [a, b]
  };

  kind type = kind::word;

  /// The value as written (for error messages), without surrounding blanks.
  std::string text;

  /// Unquoted content for string, atom and word.
  std::string str;

  /// Set for integer; `integer_overflow` when the literal does not fit.
  int64_t integer = 0;
  bool integer_overflow = false;

  double floating = 0;

  bool boolean = false;

  caf::timespan duration{0};

  std::vector<ini_value> items;
};

/// Returns a short description of `x`'s kind, e.g. "a string" or "a list".
std::string_view describe(ini_value::kind x) noexcept;

/// One `key = value` line of an INI file.
struct ini_entry {
  std::string section;
  std::string key;
  ini_value value;
  /// 1-based line of the key.
  int line = 0;
  /// 1-based line of the [section] header this entry belongs to.
  int section_line = 0;
};

/// Parses `text` (the content of `file_name`). Throws config_error with
/// "FILE:LINE: syntax error: ..." on malformed input.
std::vector<ini_entry> parse_ini(std::string_view text,
                                 std::string_view file_name);

/// Parses a single value (the right-hand side of an override). `where` names
/// the origin for error messages. Throws config_error on malformed input.
ini_value parse_ini_value(std::string_view text, std::string_view where);

} // namespace rotina::detail
