#pragma once

#include <string_view>

// The root CMakeLists.txt reads the project version from these three lines.
#define ROTINA_VERSION_MAJOR 0
#define ROTINA_VERSION_MINOR 1
#define ROTINA_VERSION_PATCH 0

namespace rotina {

/// The version of the headers this translation unit was compiled against.
inline constexpr int version_major = ROTINA_VERSION_MAJOR;
inline constexpr int version_minor = ROTINA_VERSION_MINOR;
inline constexpr int version_patch = ROTINA_VERSION_PATCH;

/// Returns the version of the linked library as "MAJOR.MINOR.PATCH". Compare
/// it with the constants above to detect header/library mismatches.
std::string_view version() noexcept;

/// Returns the version of CAF the library was compiled against, e.g. "0.17.6".
std::string_view caf_version() noexcept;

} // namespace rotina
