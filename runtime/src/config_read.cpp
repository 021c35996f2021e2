// Reading config files and overrides with CAF 0.17's own INI parser
// (caf::detail::parser::read_ini), and turning its error codes into
// rotina's messages ("FILE:LINE: syntax error: unterminated string ...").
//
// CAF's parser reports values to a consumer; ours (reader) records where each
// key is, hands every value to load()'s handler and keeps the first error.
// Nothing throws through CAF's parser: its scope guards call back into the
// consumer while unwinding.
//
// One part of CAF's grammar is replaced: CAF's read_timespan multiplies the
// count by the unit without checking (`shutdown-timeout = 18446744074s` wraps,
// and is undefined behaviour). read_timespan below is found by argument-
// dependent lookup on ini_state, reads the same units and refuses overflow.

#include <cerrno>
#include <cstring>
#include <fstream>

#include <sys/stat.h>

#include <caf/detail/ini_consumer.hpp>
#include <caf/detail/parser/read_ini.hpp>

#include "config_detail.hpp"

namespace rotina::detail {

namespace {

constexpr size_t max_file_size = 1 << 20;

// -- durations ----------------------------------------------------------------

struct ini_state : caf::string_parser_state {
  using caf::string_parser_state::string_parser_state;
  bool duration_overflow = false;
};

// Reads one of CAF's units (ns, us, ms, s, min, h) and returns its length in
// nanoseconds, or 0 with ps.code set.
int64_t read_unit(ini_state& ps) {
  auto mismatch = [&] {
    ps.code = ps.at_end()            ? caf::pec::unexpected_eof
              : ps.current() == '\n' ? caf::pec::unexpected_newline
                                     : caf::pec::unexpected_character;
    return int64_t{0};
  };
  int64_t unit = 0;
  switch (ps.current()) {
  case 'n':
  case 'u':
    unit = ps.current() == 'n' ? 1 : 1000;
    if (ps.next() != 's')
      return mismatch();
    break;
  case 'm':
    if (ps.next() == 's')
      unit = 1'000'000;
    else if (ps.current() == 'i' && ps.next() == 'n')
      unit = 60'000'000'000;
    else
      return mismatch();
    break;
  case 's':
    unit = 1'000'000'000;
    break;
  case 'h':
    unit = 3'600'000'000'000;
    break;
  default:
    return mismatch();
  }
  ps.next();
  ps.code = ps.at_end() ? caf::pec::success : caf::pec::trailing_character;
  return unit;
}

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

std::string_view trim(std::string_view x) {
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.front())))
    x.remove_prefix(1);
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.back())))
    x.remove_suffix(1);
  return x;
}

class reader;

// Receives the keys and values of one section.
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

class reader {
public:
  // `origin` is a file name, or empty for a command-line override.
  reader(ini_state& ps, std::string_view text, std::string origin,
         const caf::config_option_set& opts, const entry_handler& f)
    : ps_(ps), text_(text), origin_(std::move(origin)), opts_(opts), f_(f) {
    // nop
  }

  // -- called by CAF's parser -------------------------------------------------

  // A section header, or "global" for keys outside of any section.
  void key(std::string name) {
    auto pos = ps_.i;
    bool header = pos != text_.data() && pos[-1] == ']';
    if (!header && name == "global") {
      if (!section_.empty()) // CAF's parser restarts after a bad character
        record([&] { after_value_error(pos); });
      section_ = "global";
      return;
    }
    flush();
    section_ = std::move(name);
    record([&] {
      auto known = known_sections();
      if (std::find(known.begin(), known.end(), section_) == known.end())
        fail_unknown(where(line_of(pos - 1)), section_, "");
    });
  }

  section_consumer begin_map() {
    return section_consumer{this};
  }

  void begin_key(std::string name) {
    flush();
    key_ = std::move(name);
    key_line_ = line_of(ps_.i);
    value_begin_ = ps_.i + 1; // after the '='
    value_open_ = true;
    opt_ = nullptr;
    record([&] {
      if (section_ == "global")
        fail(where(key_line_), "syntax error: key '" + key_
                                 + "' appears before the first [section] "
                                   "header");
      auto full = section_ + "." + key_;
      auto opt = opts_.qualified_name_lookup(section_, key_);
      if (opt == nullptr || find_rule(full) == nullptr)
        fail_unknown(where(key_line_), section_, key_);
      if (auto [i, added] = seen_.emplace(full, key_line_); !added)
        fail(where(key_line_), "duplicate key '" + full + "' (first set on "
                                 + "line " + std::to_string(i->second) + ")");
      opt_ = opt;
    });
  }

  void begin_list() {
    in_list_ = true;
  }

  void end_value(caf::config_value&& x) {
    std::string text{trim({value_begin_, size_t(ps_.i - value_begin_)})};
    // CAF reports a list or map before it passes the closing bracket.
    if (caf::holds_alternative<caf::config_value::list>(x) && !text.empty()
        && text.back() != ']')
      text += ']';
    if (caf::holds_alternative<caf::config_value::dictionary>(x)
        && !text.empty() && text.back() != '}')
      text += '}';
    value_open_ = in_list_ = false;
    last_value_end_ = ps_.i;
    last_text_ = text;
    // Checked once nothing follows it on the line ("1sec" is no "1s").
    if (opt_ != nullptr)
      pending_ = entry{opt_, std::move(x), text, where(key_line_)};
  }

  // -- used by read_file and read_override ------------------------------------

  // Sets up the reader for an override's value.
  void begin_override(std::string section, std::string name,
                      const caf::config_option* opt) {
    section_ = std::move(section);
    key_ = std::move(name);
    opt_ = opt;
    value_begin_ = text_.data();
    value_open_ = true;
  }

  // Throws the first error, or the syntax error at which CAF's parser
  // stopped.
  void finish() {
    auto pos = ps_.i;
    if (pending_
        && (ps_.code == caf::pec::success
            || line_of(last_value_end_) != line_of(pos)))
      flush();
    if (error_)
      throw config_error(*error_);
    if (ps_.code == caf::pec::success)
      return;
    if (ps_.duration_overflow && opt_ != nullptr)
      fail_value(where(key_line_), *opt_, token({value_begin_, pos}, pos),
                 "out of range (a duration holds at most 9223372036s, about "
                 "292 years)");
    syntax_error(pos);
  }

private:
  // -- positions --------------------------------------------------------------

  int line_of(const char* pos) const {
    return 1 + static_cast<int>(std::count(text_.data(), pos, '\n'));
  }

  std::string where(int line) const {
    if (origin_.empty())
      return "command line";
    return origin_ + ":" + std::to_string(line);
  }

  std::string syntax_where(int line) const {
    if (origin_.empty())
      return "command line (--" + section_ + "." + key_ + ")";
    return where(line);
  }

  // Returns the rest of the word at `pos` (the rest of the line in a list).
  std::string_view word_at(const char* pos) const {
    auto end = text_.data() + text_.size();
    auto stop = in_list_ ? std::string_view{"\n;"} : " \t\n;,]";
    auto first = pos;
    while (pos != end && stop.find(*pos) == std::string_view::npos)
      ++pos;
    return {first, size_t(pos - first)};
  }

  // Returns `head` (a part of the text ending at `pos`) and the word at `pos`.
  std::string token(std::string_view head, const char* pos) const {
    auto word = word_at(pos);
    auto size = static_cast<size_t>(pos - head.data()) + word.size();
    return std::string{trim({head.data(), size})};
  }

  // -- errors -----------------------------------------------------------------

  // Hands the last complete value to the handler.
  void flush() {
    if (pending_) {
      auto x = std::move(*pending_);
      pending_.reset();
      record([&] { f_(std::move(x)); });
    }
  }

  template <class F>
  void record(F f) {
    if (error_)
      return;
    try {
      f();
    } catch (const config_error& err) {
      error_ = err.what();
    }
  }

  [[noreturn]] void syntax(int line, std::string_view what) const {
    fail(syntax_where(line), "syntax error: " + std::string{what});
  }

  // Something follows a complete value on its line.
  [[noreturn]] void after_value_error(const char* pos) const {
    if (pos == last_value_end_ && std::isalnum(static_cast<unsigned char>(*pos))
        && opt_ != nullptr) // e.g. "1sec" or "106752d"
      fail_value(where(key_line_), *opt_,
                 last_text_ + std::string{word_at(pos)});
    std::string_view rest{pos, size_t(text_.data() + text_.size() - pos)};
    auto word = rest.substr(0, rest.find_first_of(" \t\n;"));
    syntax(line_of(pos), "unexpected '" + std::string{word}
                           + "' after the value of '" + key_ + "'");
  }

  [[noreturn]] void syntax_error(const char* pos) const {
    using caf::pec;
    auto line = line_of(pos);
    auto code = ps_.code;
    auto eol = code == pec::unexpected_newline || code == pec::unexpected_eof;
    auto first
      = text_.rfind('\n', pos == text_.data() ? 0 : pos - text_.data() - 1);
    auto line_begin = (first == std::string_view::npos || pos == text_.data())
                        ? 0
                        : first + 1;
    auto line_text = trim(
      text_.substr(line_begin, text_.find('\n', line_begin) - line_begin));
    if (!line_text.empty() && line_text.front() == '#')
      syntax(line, "comments start with ';' in CAF INI files, found '"
                     + std::string{line_text} + "'");
    if (value_open_) {
      auto value = trim({value_begin_, size_t(pos - value_begin_)});
      if (in_list_ && code == pec::unexpected_eof)
        syntax(key_line_, "unterminated list (missing ']')");
      if (!value.empty() && value.front() == '"' && eol)
        syntax(line, "unterminated string (missing closing '\"')");
      if ((value.empty() || value.front() == ';') && eol)
        syntax(key_line_, "missing value after '='");
      if (opt_ != nullptr)
        fail_value(where(key_line_), *opt_, token(value, pos));
    }
    if (last_value_end_ != nullptr && line_of(last_value_end_) == line)
      after_value_error(pos);
    if (!line_text.empty() && line_text.front() == '[')
      syntax(line, "malformed section header, expected '[name]'");
    if (line_text.find('=') == std::string_view::npos)
      syntax(line,
             "expected 'key = value', found '" + std::string{line_text} + "'");
    syntax(line, "at column " + std::to_string(ps_.column) + ": "
                   + caf::to_string(code));
  }

  // -- state ------------------------------------------------------------------

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

void section_consumer::key(std::string name) {
  r_->begin_key(std::move(name));
}

void section_consumer::value_impl(caf::config_value&& x) {
  r_->end_value(std::move(x));
}

caf::detail::ini_list_consumer section_consumer::begin_list() {
  r_->begin_list();
  return abstract_ini_consumer::begin_list();
}

std::string read_text(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    fail(path, std::string{"cannot open config file: "} + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    fail(path, "cannot read config file: is a directory");
  if (!S_ISREG(st.st_mode))
    fail(path, "cannot read config file: not a regular file");
  auto too_big
    = [&] { fail(path, "cannot read config file: larger than 1 MiB"); };
  if (static_cast<uint64_t>(st.st_size) > max_file_size)
    too_big();
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    auto err = errno;
    fail(path, std::string{"cannot open config file: "}
                 + (err != 0 ? std::strerror(err) : "unknown error"));
  }
  std::string text(max_file_size + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad())
    fail(path, "cannot read config file");
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > max_file_size)
    too_big(); // grew since stat
  return text;
}

} // namespace

void read_file(const std::string& path, const caf::config_option_set& opts,
               const entry_handler& f) {
  auto text = read_text(path);
  ini_state ps{text.data(), text.data() + text.size()};
  reader r{ps, text, path, opts, f};
  caf::detail::parser::read_ini(ps, r);
  r.finish();
}

void read_override(std::string_view arg, const caf::config_option_set& opts,
                   const entry_handler& f) {
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
  auto value = text.substr(eq + 1);
  std::string section = "rotina";
  if (auto dot = key.find('.'); dot != std::string_view::npos) {
    section = std::string{key.substr(0, dot)};
    key = key.substr(dot + 1);
  }
  std::string name{key};
  auto full = section + "." + name;
  auto opt = opts.qualified_name_lookup(section, name);
  if (opt == nullptr || find_rule(full) == nullptr)
    fail_unknown(where, section, name, true);
  // Like CAF's command line: strings and names may go without quotes.
  auto type = opt->type_name();
  if ((type == "string" || type == "atom") && !value.empty()
      && value.front() != '"' && value.front() != '\'') {
    std::string str{value};
    f(entry{opt, caf::config_value{str}, str, where});
    return;
  }
  ini_state ps{value.data(), value.data() + value.size()};
  reader r{ps, value, "", opts, f};
  r.begin_override(section, name, opt);
  if (value.empty()) {
    ps.code = caf::pec::unexpected_eof;
  } else {
    section_consumer consumer{&r};
    caf::detail::parser::read_ini_value(ps, consumer);
  }
  r.finish();
}

} // namespace rotina::detail
