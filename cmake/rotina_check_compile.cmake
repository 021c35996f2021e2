# Compile checks: runs the configured compiler on one snippet of test/compile/
# and checks what its `// check:` lines ask for:
#   // check: fails <text>     compiling must fail, with <text> in the messages
#                              (a static_assert or a -Werror diagnostic)
#   // check: max-lines <n>    preprocessing gives at most <n> lines and pulls in
#                              no CAF header (a header that must stay light)
#   // check: flags <flags>    extra compiler flags (e.g. -Werror)
# Usage: cmake -DCXX=<compiler> -DROOT=<repository root> -DSOURCE=<snippet>
#              -P rotina_check_compile.cmake
if(NOT CXX OR NOT ROOT OR NOT SOURCE)
  message(FATAL_ERROR "usage: -DCXX=<compiler> -DROOT=<root> -DSOURCE=<file>")
endif()

set(flags -std=c++20 -I${ROOT}/actors -I${ROOT}/runtime)
set(mode "")
file(STRINGS "${SOURCE}" directives REGEX "^// check: ")
foreach(line IN LISTS directives)
  string(REGEX REPLACE "^// check: " "" line "${line}")
  if(line MATCHES "^fails (.+)$")
    set(mode fails)
    set(expect "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^max-lines ([0-9]+)$")
    set(mode lines)
    set(max_lines "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^flags (.+)$")
    separate_arguments(extra UNIX_COMMAND "${CMAKE_MATCH_1}")
    list(APPEND flags ${extra})
  endif()
endforeach()

if(mode STREQUAL "lines")
  execute_process(COMMAND ${CXX} ${flags} -E ${SOURCE}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE}: preprocessing failed:\n${err}")
  endif()
  string(REGEX MATCHALL "\n" newlines "${out}")
  list(LENGTH newlines n)
  if(out MATCHES "[/\\\\]caf[/\\\\][^\"]*\"")
    message(FATAL_ERROR "${SOURCE}: pulls in a CAF header "
                        "(${CMAKE_MATCH_0}); it must include none")
  endif()
  if(n GREATER max_lines)
    message(FATAL_ERROR "${SOURCE}: preprocesses to ${n} lines, more than "
                        "${max_lines}")
  endif()
  message(STATUS "${SOURCE}: ${n} preprocessed lines (limit ${max_lines})")
elseif(mode STREQUAL "fails")
  execute_process(COMMAND ${CXX} ${flags} -fsyntax-only ${SOURCE}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE}: compiled, but must fail with: ${expect}")
  endif()
  string(FIND "${out}${err}" "${expect}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${SOURCE}: failed, but without \"${expect}\":\n"
                        "${err}")
  endif()
  message(STATUS "${SOURCE}: fails as expected (${expect})")
else()
  message(FATAL_ERROR "${SOURCE}: no `// check: fails` or `max-lines` line")
endif()
