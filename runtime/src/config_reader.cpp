// The reader's callbacks and the wording of syntax errors (see
// config_reader.hpp).

#include <algorithm>

#include "config_reader.hpp"

namespace rotina::detail {

std::string_view trim(std::string_view x) {
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.front())))
    x.remove_prefix(1);
  while (!x.empty() && std::isspace(static_cast<unsigned char>(x.back())))
    x.remove_suffix(1);
  return x;
}

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

// -- the reader ---------------------------------------------------------------

// Runs `f` unless an error was recorded; records the error `f` throws.
template <class F>
void reader::record(F f) {
  if (error_)
    return;
  try {
    f();
  } catch (const config_error& err) {
    error_ = err.what();
  }
}

void reader::key(std::string name) {
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

void reader::begin_key(std::string name) {
  flush();
  key_ = std::move(name);
  key_line_ = line_of(ps_.i);
  // After the '=' (CAF calls this at the '=', at the '{' of "key {...}", or
  // after the ']' of a nested group "[a.b]").
  value_begin_ = ps_.current() == '=' ? ps_.i + 1 : ps_.i;
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

void reader::end_value(caf::config_value&& x) {
  auto end = std::max(ps_.i, value_begin_);
  std::string text{trim({value_begin_, size_t(end - value_begin_)})};
  // CAF reports a list or map before it passes the closing bracket.
  if (caf::holds_alternative<caf::config_value::list>(x) && !text.empty()
      && text.back() != ']')
    text += ']';
  if (caf::holds_alternative<caf::config_value::dictionary>(x) && !text.empty()
      && text.back() != '}')
    text += '}';
  value_open_ = in_list_ = false;
  last_value_end_ = ps_.i;
  last_text_ = text;
  // Checked once nothing follows it on the line ("1sec" is no "1s").
  if (opt_ != nullptr)
    pending_ = entry{opt_, std::move(x), text, where(key_line_)};
}

void reader::begin_override(std::string section, std::string name,
                            const caf::config_option* opt) {
  section_ = std::move(section);
  key_ = std::move(name);
  opt_ = opt;
  value_begin_ = text_.data();
  value_open_ = true;
}

void reader::finish() {
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

int reader::line_of(const char* pos) const {
  return 1 + static_cast<int>(std::count(text_.data(), pos, '\n'));
}

std::string reader::where(int line) const {
  if (origin_.empty())
    return "command line";
  return origin_ + ":" + std::to_string(line);
}

// Returns the rest of the word at `pos` (the rest of the line in a list).
std::string_view reader::word_at(const char* pos) const {
  auto end = text_.data() + text_.size();
  auto stop = in_list_ ? std::string_view{"\n;"} : " \t\n;,]";
  auto first = pos;
  while (pos != end && stop.find(*pos) == std::string_view::npos)
    ++pos;
  return {first, size_t(pos - first)};
}

// Returns `head` (a part of the text ending at `pos`) and the word at `pos`.
std::string reader::token(std::string_view head, const char* pos) const {
  auto word = word_at(pos);
  auto size = static_cast<size_t>(pos - head.data()) + word.size();
  return std::string{trim({head.data(), size})};
}

// Hands the last complete value to the handler.
void reader::flush() {
  if (pending_) {
    auto x = std::move(*pending_);
    pending_.reset();
    record([&] { f_(std::move(x)); });
  }
}

void reader::syntax(int line, std::string_view what) const {
  auto at = origin_.empty() ? "command line (--" + section_ + "." + key_ + ")"
                            : where(line);
  fail(at, "syntax error: " + std::string{what});
}

// Something follows a complete value on its line.
void reader::after_value_error(const char* pos) const {
  if (pos == last_value_end_ && std::isalnum(static_cast<unsigned char>(*pos))
      && opt_ != nullptr) // e.g. "1sec" or "106752d"
    fail_value(where(key_line_), *opt_, last_text_ + std::string{word_at(pos)});
  std::string_view rest{pos, size_t(text_.data() + text_.size() - pos)};
  rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t")));
  auto word = rest.substr(0, rest.find_first_of(" \t\n;"));
  syntax(line_of(pos), "unexpected '" + std::string{word}
                         + "' after the value of '" + key_ + "'");
}

void reader::syntax_error(const char* pos) const {
  using caf::pec;
  auto line = line_of(pos);
  auto code = ps_.code;
  auto eol = code == pec::unexpected_newline || code == pec::unexpected_eof;
  auto off = static_cast<size_t>(pos - text_.data());
  auto line_begin
    = off == 0 ? 0 : text_.rfind('\n', off - 1) + 1; // npos + 1 == 0
  auto line_text
    = trim(text_.substr(line_begin, text_.find('\n', line_begin) - line_begin));
  if (!line_text.empty() && line_text.front() == '#')
    syntax(line, "comments start with ';' in CAF INI files, found '"
                   + std::string{line_text} + "'");
  if (value_open_) {
    auto value = trim(
      {value_begin_, size_t(std::max(pos, value_begin_) - value_begin_)});
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
  if (line_text.find('=') == std::string_view::npos || line_text.front() == '=')
    syntax(line,
           "expected 'key = value', found '" + std::string{line_text} + "'");
  syntax(line, "at column " + std::to_string(ps_.column) + ": "
                 + caf::to_string(code));
}

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

} // namespace rotina::detail
