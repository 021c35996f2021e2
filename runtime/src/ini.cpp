#include "ini.hpp"

#include <cctype>
#include <charconv>
#include <limits>

#include "rotina/config.hpp"

namespace rotina::detail {

namespace {

// -- character classes --------------------------------------------------------

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r';
}

bool is_name_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.';
}

// Ends a word or number: whitespace, list punctuation or a comment.
bool is_delimiter(char c) noexcept {
  return is_blank(c) || c == '\n' || c == ',' || c == ']' || c == ';';
}

std::string quote(std::string_view x) {
  std::string result = "'";
  result.append(x);
  result += '\'';
  return result;
}

// -- cursor -------------------------------------------------------------------

/// Walks over the input and knows the current line for error messages.
class cursor {
public:
  cursor(std::string_view text, std::string_view where, bool single_value)
    : text_(text), where_(where), single_value_(single_value) {
    // nop
  }

  bool at_end() const noexcept {
    return pos_ >= text_.size();
  }

  char peek(size_t offset = 0) const noexcept {
    return pos_ + offset < text_.size() ? text_[pos_ + offset] : '\0';
  }

  char next() noexcept {
    auto c = text_[pos_++];
    if (c == '\n')
      ++line_;
    return c;
  }

  size_t pos() const noexcept {
    return pos_;
  }

  int line() const noexcept {
    return line_;
  }

  std::string_view slice(size_t from) const noexcept {
    return text_.substr(from, pos_ - from);
  }

  void skip_blanks() noexcept {
    while (!at_end() && is_blank(peek()))
      next();
  }

  // Skips blanks, newlines and comments (inside lists).
  void skip_space() noexcept {
    for (;;) {
      skip_blanks();
      if (peek() == ';') {
        while (!at_end() && peek() != '\n')
          next();
      } else if (peek() == '\n') {
        next();
      } else {
        return;
      }
    }
  }

  [[noreturn]] void fail(std::string_view what) const {
    fail_at(line_, what);
  }

  [[noreturn]] void fail_at(int line, std::string_view what) const {
    std::string msg{where_};
    if (!single_value_) {
      msg += ':';
      msg += std::to_string(line);
    }
    msg += ": syntax error: ";
    msg.append(what);
    throw config_error(msg);
  }

  // Text from the current position to the end of the line, for messages.
  std::string rest_of_line() const {
    return line_from(pos_);
  }

  // Text from `from` to the end of its line, for messages.
  std::string line_from(size_t from) const {
    auto end = text_.find('\n', from);
    auto str = std::string{text_.substr(from, end == std::string_view::npos
                                                ? std::string_view::npos
                                                : end - from)};
    while (!str.empty() && is_blank(str.back()))
      str.pop_back();
    return str;
  }

private:
  std::string_view text_;
  std::string_view where_;
  bool single_value_;
  size_t pos_ = 0;
  int line_ = 1;
};

// -- value parsing ------------------------------------------------------------

std::string parse_quoted(cursor& in, char delim) {
  in.next(); // opening quote
  std::string result;
  for (;;) {
    if (in.at_end() || in.peek() == '\n')
      in.fail(delim == '"' ? "unterminated string (missing closing '\"')"
                           : "unterminated atom (missing closing \"'\")");
    auto c = in.next();
    if (c == delim)
      return result;
    if (c == '\\' && delim == '"') {
      if (in.at_end())
        in.fail("unterminated string (missing closing '\"')");
      switch (auto e = in.next()) {
      case 'n':
        result += '\n';
        break;
      case 't':
        result += '\t';
        break;
      case '"':
      case '\\':
        result += e;
        break;
      default:
        in.fail(std::string{"unknown escape sequence '\\"} + e + "' in string");
      }
      continue;
    }
    result += c;
  }
}

// Tries to read `word` as integer, float or duration.
bool parse_number(std::string_view word, ini_value& out) {
  if (word.empty())
    return false;
  std::string_view digits = word;
  bool negative = false;
  if (digits[0] == '-' || digits[0] == '+') {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || !std::isdigit(static_cast<unsigned char>(digits[0])))
    return false;
  // Hexadecimal integer.
  if (digits.size() > 2 && digits[0] == '0'
      && (digits[1] == 'x' || digits[1] == 'X')) {
    uint64_t value = 0;
    auto hex = digits.substr(2);
    auto [ptr, ec]
      = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (ptr != hex.data() + hex.size())
      return false;
    out.type = ini_value::kind::integer;
    if (ec == std::errc::result_out_of_range
        || value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      out.integer_overflow = true;
    } else {
      out.integer
        = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    }
    return true;
  }
  size_t n = 0;
  while (n < digits.size()
         && std::isdigit(static_cast<unsigned char>(digits[n])))
    ++n;
  auto int_part = digits.substr(0, n);
  auto suffix = digits.substr(n);
  auto to_int = [&](int64_t& result) {
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(int_part.data(),
                                     int_part.data() + int_part.size(), value);
    static_cast<void>(ptr);
    if (ec == std::errc::result_out_of_range
        || value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return false;
    result
      = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    return true;
  };
  if (suffix.empty()) {
    out.type = ini_value::kind::integer;
    out.integer_overflow = !to_int(out.integer);
    return true;
  }
  if (suffix[0] == '.' || suffix[0] == 'e' || suffix[0] == 'E') {
    // Floating point: let strtod judge the whole literal.
    std::string tmp{word};
    char* end = nullptr;
    auto value = std::strtod(tmp.c_str(), &end);
    if (end != tmp.c_str() + tmp.size())
      return false;
    out.type = ini_value::kind::floating;
    out.floating = value;
    return true;
  }
  using namespace std::chrono;
  int64_t count = 0;
  if (!to_int(count))
    return false;
  // Durations: integer count followed by a unit. Overflow saturates into an
  // error in config.cpp because the count is range-checked there.
  auto make = [&](auto unit) {
    out.type = ini_value::kind::duration;
    out.duration = duration_cast<caf::timespan>(unit * count);
    return true;
  };
  if (suffix == "ns")
    return make(nanoseconds{1});
  if (suffix == "us")
    return make(microseconds{1});
  if (suffix == "ms")
    return make(milliseconds{1});
  if (suffix == "s")
    return make(seconds{1});
  if (suffix == "min")
    return make(minutes{1});
  if (suffix == "h")
    return make(hours{1});
  if (suffix == "d")
    return make(hours{24});
  return false;
}

ini_value parse_value(cursor& in, int depth) {
  ini_value result;
  auto start = in.pos();
  auto c = in.peek();
  if (in.at_end() || c == '\n' || c == ';')
    in.fail("missing value after '='");
  if (c == '"') {
    result.type = ini_value::kind::string;
    result.str = parse_quoted(in, '"');
  } else if (c == '\'') {
    result.type = ini_value::kind::atom;
    result.str = parse_quoted(in, '\'');
  } else if (c == '[') {
    if (depth > 8)
      in.fail("lists nested too deeply");
    result.type = ini_value::kind::list;
    auto first_line = in.line();
    in.next();
    in.skip_space();
    while (in.peek() != ']') {
      if (in.at_end())
        in.fail_at(first_line, "unterminated list (missing ']')");
      result.items.push_back(parse_value(in, depth + 1));
      in.skip_space();
      if (in.peek() == ',') {
        in.next();
        in.skip_space();
      } else if (in.peek() != ']') {
        if (in.at_end())
          in.fail_at(first_line, "unterminated list (missing ']')");
        in.fail("expected ',' or ']' in list, found '" + in.rest_of_line()
                + "'");
      }
    }
    in.next(); // ']'
  } else if (c == '{') {
    in.fail("maps ('{ ... }') are not supported in rotina config values");
  } else if (c == ',' || c == ']') {
    in.fail(std::string{"unexpected '"} + c + "'");
  } else {
    while (!in.at_end() && !is_delimiter(in.peek())) {
      auto ch = in.peek();
      if (ch == '"' || ch == '\'' || ch == '[' || ch == '{' || ch == '=')
        in.fail(std::string{"unexpected '"} + ch + "' in value");
      in.next();
    }
    auto word = in.slice(start);
    result.str = std::string{word};
    if (word == "true" || word == "false") {
      result.type = ini_value::kind::boolean;
      result.boolean = word == "true";
    } else if (!parse_number(word, result)) {
      result.type = ini_value::kind::word;
    }
  }
  result.text = std::string{in.slice(start)};
  return result;
}

// Expects only blanks and an optional comment up to the end of the line.
void expect_line_end(cursor& in, std::string_view after) {
  in.skip_blanks();
  if (in.peek() == ';') {
    while (!in.at_end() && in.peek() != '\n')
      in.next();
  }
  if (!in.at_end() && in.peek() != '\n') {
    if (in.peek() == '#')
      in.fail("comments start with ';' in CAF INI files, found '"
              + in.rest_of_line() + "'");
    in.fail("unexpected '" + in.rest_of_line() + "' after "
            + std::string{after});
  }
}

} // namespace

std::string_view describe(ini_value::kind x) noexcept {
  switch (x) {
  case ini_value::kind::string:
    return "a string";
  case ini_value::kind::atom:
    return "an atom";
  case ini_value::kind::word:
    return "an unquoted word";
  case ini_value::kind::integer:
    return "an integer";
  case ini_value::kind::floating:
    return "a floating-point number";
  case ini_value::kind::boolean:
    return "a boolean";
  case ini_value::kind::duration:
    return "a duration";
  case ini_value::kind::list:
    return "a list";
  }
  return "a value";
}

std::vector<ini_entry> parse_ini(std::string_view text,
                                 std::string_view file_name) {
  std::vector<ini_entry> result;
  cursor in{text, file_name, false};
  std::string section;
  int section_line = 0;
  while (!in.at_end()) {
    in.skip_blanks();
    auto c = in.peek();
    if (c == '\n') {
      in.next();
      continue;
    }
    if (c == ';') {
      expect_line_end(in, "comment");
      continue;
    }
    if (c == '#')
      in.fail("comments start with ';' in CAF INI files, found '"
              + in.rest_of_line() + "'");
    if (c == '[') {
      in.next();
      in.skip_blanks();
      auto start = in.pos();
      while (!in.at_end() && is_name_char(in.peek()))
        in.next();
      auto name = in.slice(start);
      in.skip_blanks();
      if (name.empty() || in.peek() != ']')
        in.fail("malformed section header, expected '[name]'");
      in.next();
      section = std::string{name};
      section_line = in.line();
      expect_line_end(in, "section header " + quote("[" + section + "]"));
      continue;
    }
    if (!is_name_char(c))
      in.fail("expected a key, a [section] or a ';' comment, found '"
              + in.rest_of_line() + "'");
    auto start = in.pos();
    while (!in.at_end() && is_name_char(in.peek()))
      in.next();
    ini_entry entry;
    entry.key = std::string{in.slice(start)};
    entry.line = in.line();
    in.skip_blanks();
    if (in.peek() != '=')
      in.fail("expected 'key = value', found '" + in.line_from(start) + "'");
    in.next();
    in.skip_blanks();
    if (section.empty())
      in.fail("key " + quote(entry.key)
              + " appears before the first [section] header");
    entry.section = section;
    entry.section_line = section_line;
    entry.value = parse_value(in, 0);
    expect_line_end(in, "the value of " + quote(entry.key));
    result.push_back(std::move(entry));
  }
  return result;
}

ini_value parse_ini_value(std::string_view text, std::string_view where) {
  cursor in{text, where, true};
  in.skip_blanks();
  auto result = parse_value(in, 0);
  in.skip_blanks();
  if (!in.at_end())
    in.fail("unexpected '" + in.rest_of_line() + "' after value");
  return result;
}

} // namespace rotina::detail
