// Reading config files and overrides with CAF 0.17's own INI parser; the
// consumer is config_reader.hpp.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <sys/stat.h>

#include <caf/detail/parser/read_ini.hpp>

#include "config_reader.hpp"

namespace rotina::detail {

namespace {

constexpr size_t max_file_size = 1 << 20;

// Refuses what is no regular file before opening it: opening a FIFO blocks,
// and /dev/zero never ends.
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
  // CAF's grammar knows no '\r': read CRLF files as LF files.
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
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
