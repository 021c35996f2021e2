// config::dump, behind --dump-config: every key with its effective value and
// where that value came from, in INI syntax a user can paste into a file.

#include <ostream>

#include "config_detail.hpp"

namespace rotina {

void config::dump(std::ostream& out) const {
  out << "; effective configuration (--dump-config): value ; origin\n";
  std::string section;
  for (auto& key : known_keys()) {
    if (key.section != section) {
      section = key.section;
      out << "\n[" << section << "]\n";
    }
    auto full = key.section + "." + key.name;
    if (auto x = value_of(full)) {
      out << key.name << " = " << detail::to_ini(*x) << " ; "
          << source_of(full);
      if (full == "rotina.insecure" && insecure && tls_certificate.empty()
          && tls_key.empty() && tls_ca_file.empty())
        out << " ; INSECURE: a non-loopback listen-host accepts peers without "
               "TLS (docs/security.md)";
      out << '\n';
    } else // CAF computes this default when the actor system starts
      out << "; " << key.name << " = " << key.default_value << " ; default\n";
  }
}

} // namespace rotina
