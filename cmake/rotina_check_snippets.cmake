# Checks that the docs quote compiled code: every line of every ```cpp block in
# README.md, docs/goroutines.md, docs/channels.md and docs/select.md must occur
# (indentation aside) in an app (apps/*/main.cpp) or a test
# (test/actors/*.cpp). A quoted snippet that drifted from its source fails.
# Usage: cmake -DROOT=<repository root> -P rotina_check_snippets.cmake
if(NOT ROOT)
  message(FATAL_ERROR "usage: -DROOT=<repository root>")
endif()

# Reads `file` into a list of stripped lines (';', '[' and ']' escaped, so that
# CMake's list syntax leaves them alone).
function(read_lines file out)
  file(READ "${file}" text)
  string(REPLACE ";" "<sc>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(result "")
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    list(APPEND result "${line}")
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

file(GLOB sources "${ROOT}/apps/*/main.cpp" "${ROOT}/test/actors/*.cpp")
set(known "")
foreach(src IN LISTS sources)
  read_lines("${src}" lines)
  list(APPEND known ${lines})
endforeach()

set(failures "")
foreach(doc README.md docs/goroutines.md docs/channels.md docs/select.md)
  read_lines("${ROOT}/${doc}" lines)
  set(in_cpp FALSE)
  set(lineno 0)
  foreach(line IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")
    if(line STREQUAL "```cpp")
      set(in_cpp TRUE)
    elseif(line MATCHES "^```")
      set(in_cpp FALSE)
    elseif(in_cpp AND NOT line STREQUAL "")
      list(FIND known "${line}" found)
      if(found EQUAL -1)
        string(REPLACE "<sc>" ";" shown "${line}")
        string(REPLACE "<lb>" "[" shown "${shown}")
        string(REPLACE "<rb>" "]" shown "${shown}")
        string(APPEND failures "\n  ${doc}:${lineno}: ${shown}")
      endif()
    endif()
  endforeach()
endforeach()
if(failures)
  message(FATAL_ERROR "quoted code not found in apps/ or test/actors/:"
                      "${failures}")
endif()
