// config::dump, behind --dump-config: every key with its effective value and
// where that value came from, in INI syntax a user can paste into a file.

#include <ostream>

#include "config_detail.hpp"

namespace rotina {

void config::dump(std::ostream& out) const {
  out << "; effective configuration (--dump-config): value ; origin\n";
  std::string section;
  for (auto& rule : detail::key_rules()) {
    auto dot = rule.key.find('.');
    auto key_section = rule.key.substr(0, dot);
    if (key_section != section) {
      section = std::string{key_section};
      out << "\n[" << section << "]\n";
    }
    auto name = rule.key.substr(dot + 1);
    auto origin = source_of(rule.key);
    if (auto x = value_of(rule.key)) {
      out << name << " = " << detail::to_ini(*x) << " ; " << origin << '\n';
    } else {
      // CAF computes this default when the actor system starts.
      out << "; " << name << " = " << rule.default_text << " ; " << origin
          << '\n';
    }
  }
}

} // namespace rotina
