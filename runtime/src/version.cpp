#include "rotina/version.hpp"

#include <string>

#include <caf/config.hpp>

#define ROTINA_STR_IMPL(x) #x
#define ROTINA_STR(x) ROTINA_STR_IMPL(x)

namespace rotina {

std::string_view version() noexcept {
  return ROTINA_STR(ROTINA_VERSION_MAJOR) "." ROTINA_STR(
    ROTINA_VERSION_MINOR) "." ROTINA_STR(ROTINA_VERSION_PATCH);
}

std::string_view caf_version() noexcept {
  // CAF_VERSION encodes 0.17.6 as 1706.
  static const std::string str = std::to_string(CAF_MAJOR_VERSION) + "."
                                 + std::to_string(CAF_MINOR_VERSION) + "."
                                 + std::to_string(CAF_PATCH_VERSION);
  return str;
}

} // namespace rotina
