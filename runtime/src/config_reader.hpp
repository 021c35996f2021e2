#pragma once

// Internal to config_reader.cpp and config_read.cpp: the consumer that CAF
// 0.17's INI parser (caf::detail::parser::read_ini) reports to.
//
// The reader records where each key is, hands every complete value to
// load()'s handler and keeps the first error; nothing throws through CAF's
// parser (its scope guards call back into the consumer while unwinding).
// finish() turns CAF's error code into rotina's message ("FILE:LINE: syntax
// error: unterminated string ...").
//
// One part of CAF's grammar is replaced: CAF's read_timespan multiplies the
// count by the unit without a check (`18446744074s` wraps, which is undefined
// behaviour). read_timespan below is found by argument-dependent lookup on
// ini_state; it reads the same units and refuses overflow.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <caf/detail/ini_consumer.hpp>
#include <caf/optional.hpp>
#include <caf/parser_state.hpp>

#include "config_detail.hpp"

namespace rotina::detail {

// -- durations ----------------------------------------------------------------

struct ini_state : caf::string_parser_state {
  using caf::string_parser_state::string_parser_state;
  bool duration_overflow = false;
};

/// Reads one of CAF's units (ns, us, ms, s, min, h) and returns its length
/// in nanoseconds, or 0 with `ps.code` set.
int64_t read_unit(ini_state& ps);

template <class Consumer>
void read_timespan(ini_state& ps, Consumer&& consumer,
                   caf::optional<int64_t> num = caf::none) {
  auto unit = read_unit(ps);
  if (unit == 0)
    return;
  int64_t count = 0;
  if (!num || __builtin_mul_overflow(*num, unit, &count)) {
    ps.code = caf::pec::integer_overflow;
    ps.duration_overflow = true;
    return;
  }
  consumer.value(caf::timespan{count});
}

// -- the consumer -------------------------------------------------------------

/// Returns `x` without leading and trailing whitespace.
std::string_view trim(std::string_view x);

class reader;

/// Receives the keys and values of one section.
class section_consumer : public caf::detail::abstract_ini_consumer {
public:
  explicit section_consumer(reader* r) : r_(r) {
    // nop
  }
  void key(std::string name);
  void value_impl(caf::config_value&& x) override;
  caf::detail::ini_list_consumer begin_list();
  void end_map() {
    // nop
  }

private:
  reader* r_;
};

/// The top-level consumer of read_ini, and the state of one file or override.
class reader {
public:
  /// `origin` is a file name, or empty for a command-line override.
  reader(ini_state& ps, std::string_view text, std::string origin,
         const caf::config_option_set& opts, const entry_handler& f)
    : ps_(ps), text_(text), origin_(std::move(origin)), opts_(opts), f_(f) {
    // nop
  }

  // -- called by CAF's parser -------------------------------------------------

  /// A section header, or "global" for keys outside of any section.
  void key(std::string name);

  section_consumer begin_map() {
    return section_consumer{this};
  }

  void begin_key(std::string name);

  void begin_list() {
    in_list_ = true;
  }

  void end_value(caf::config_value&& x);

  // -- used by read_file and read_override ------------------------------------

  /// Sets up the reader for an override's value.
  void begin_override(std::string section, std::string name,
                      const caf::config_option* opt);

  /// Throws the first error, or the syntax error at which CAF's parser
  /// stopped.
  void finish();

private:
  int line_of(const char* pos) const;
  std::string where(int line) const;
  std::string_view word_at(const char* pos) const;
  std::string token(std::string_view head, const char* pos) const;
  void flush();
  template <class F>
  void record(F f);
  [[noreturn]] void syntax(int line, std::string_view what) const;
  [[noreturn]] void after_value_error(const char* pos) const;
  [[noreturn]] void syntax_error(const char* pos) const;

  ini_state& ps_;
  std::string_view text_;
  std::string origin_;
  const caf::config_option_set& opts_;
  const entry_handler& f_;
  std::string section_;
  std::string key_;
  int key_line_ = 0;
  const caf::config_option* opt_ = nullptr;
  const char* value_begin_ = nullptr;
  bool value_open_ = false;
  bool in_list_ = false;
  const char* last_value_end_ = nullptr;
  std::string last_text_;
  std::map<std::string, int> seen_;
  std::optional<entry> pending_;
  std::optional<std::string> error_;
};

} // namespace rotina::detail
