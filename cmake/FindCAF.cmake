# FindCAF.cmake -- locates the C++ Actor Framework (CAF) 0.17 as shipped by
# Debian's libcaf-dev, which installs no CMake package configuration.
#
# Components: core (always searched), io, openssl.
#
# Imported targets (SHARED IMPORTED, include directory marked SYSTEM so that
# -Werror never trips on CAF's own headers):
#   CAF::core      libcaf_core
#   CAF::io        libcaf_io      (links CAF::core)
#   CAF::openssl   libcaf_openssl (links CAF::io)
#
# Result variables: CAF_FOUND, CAF_VERSION, CAF_INCLUDE_DIR,
# CAF_<COMPONENT>_LIBRARY, CAF_<COMPONENT>_FOUND.

set(_caf_components core ${CAF_FIND_COMPONENTS})
list(REMOVE_DUPLICATES _caf_components)

find_path(CAF_INCLUDE_DIR
  NAMES caf/config.hpp
  HINTS ${CAF_ROOT_DIR}/include
  PATHS /usr/include /usr/local/include)

if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line
       REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE "^#define CAF_VERSION ([0-9]+).*" "\\1"
         _caf_version_num "${_caf_version_line}")
  if(_caf_version_num)
    math(EXPR _caf_major "${_caf_version_num} / 10000")
    math(EXPR _caf_minor "(${_caf_version_num} / 100) % 100")
    math(EXPR _caf_patch "${_caf_version_num} % 100")
    set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
  endif()
endif()

foreach(_comp IN LISTS _caf_components)
  find_library(CAF_${_comp}_LIBRARY
    NAMES caf_${_comp}
    HINTS ${CAF_ROOT_DIR}/lib
    PATHS /usr/lib/x86_64-linux-gnu /usr/lib /usr/local/lib)
  if(CAF_${_comp}_LIBRARY AND CAF_INCLUDE_DIR)
    set(CAF_${_comp}_FOUND TRUE)
  else()
    set(CAF_${_comp}_FOUND FALSE)
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
string(CONCAT _caf_fail_message
  "CAF (C++ Actor Framework) 0.17 not found: install Debian package "
  "libcaf-dev (sudo apt-get install libcaf-dev), or set CAF_ROOT_DIR")
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_core_LIBRARY
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS
  REASON_FAILURE_MESSAGE "${_caf_fail_message}")

if(NOT CAF_FOUND)
  if(CAF_FIND_REQUIRED)
    message(FATAL_ERROR "${_caf_fail_message}")
  endif()
  return()
endif()

if(NOT CAF_VERSION VERSION_GREATER_EQUAL 0.17 OR CAF_VERSION VERSION_GREATER_EQUAL 0.18)
  message(WARNING "rotina is written against CAF 0.17.x, found ${CAF_VERSION}")
endif()

find_package(Threads REQUIRED)

if(CAF_core_FOUND AND NOT TARGET CAF::core)
  add_library(CAF::core SHARED IMPORTED)
  set_target_properties(CAF::core PROPERTIES
    IMPORTED_LOCATION "${CAF_core_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
if(CAF_io_FOUND AND NOT TARGET CAF::io)
  add_library(CAF::io SHARED IMPORTED)
  set_target_properties(CAF::io PROPERTIES
    IMPORTED_LOCATION "${CAF_io_LIBRARY}"
    INTERFACE_LINK_LIBRARIES CAF::core)
endif()
if(CAF_openssl_FOUND AND NOT TARGET CAF::openssl)
  add_library(CAF::openssl SHARED IMPORTED)
  set_target_properties(CAF::openssl PROPERTIES
    IMPORTED_LOCATION "${CAF_openssl_LIBRARY}"
    INTERFACE_LINK_LIBRARIES CAF::io)
endif()

mark_as_advanced(CAF_INCLUDE_DIR CAF_core_LIBRARY CAF_io_LIBRARY
                 CAF_openssl_LIBRARY)
