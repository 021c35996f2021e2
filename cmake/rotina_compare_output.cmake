# Runs a program and compares its standard output with an expected output:
# a file, or what another command prints when the test runs.
# Usage:
#   cmake -DPROGRAM=<exe> -DEXPECTED=<file> [-DARGS=<a;b;c>] -P rotina_compare_output.cmake
#   cmake -DPROGRAM=<exe> -DEXPECTED_COMMAND=<cmd;a;b> [-DARGS=...] -P ...
# Comparison is line by line after trimming trailing whitespace. In the
# expected text the token {} matches any non-empty text (for host names, PIDs,
# thread counts and the like). A non-zero exit status of either program fails
# the test too.
if(NOT PROGRAM OR (NOT EXPECTED AND NOT EXPECTED_COMMAND))
  message(FATAL_ERROR "usage: -DPROGRAM=exe -DEXPECTED=file | "
                      "-DEXPECTED_COMMAND=cmd;args [-DARGS=...]")
endif()
execute_process(COMMAND "${PROGRAM}" ${ARGS}
  RESULT_VARIABLE status
  OUTPUT_VARIABLE actual
  ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with status ${status}\n"
                      "stdout:\n${actual}\nstderr:\n${errors}")
endif()
if(EXPECTED_COMMAND)
  execute_process(COMMAND ${EXPECTED_COMMAND}
    RESULT_VARIABLE status
    OUTPUT_VARIABLE expected
    ERROR_VARIABLE errors)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "expected-output command ${EXPECTED_COMMAND} exited "
                        "with status ${status}\nstderr:\n${errors}")
  endif()
  set(EXPECTED "the output of ${EXPECTED_COMMAND}")
else()
  file(READ "${EXPECTED}" expected)
endif()
string(REGEX REPLACE "[ \t\r\n]+$" "" actual "${actual}")
string(REGEX REPLACE "[ \t\r\n]+$" "" expected "${expected}")
# Turn both texts into lists of lines (escape ';', CMake's list separator).
string(REPLACE ";" "<semicolon>" actual "${actual}")
string(REPLACE ";" "<semicolon>" expected "${expected}")
string(REPLACE "\n" ";" actual_lines "${actual}")
string(REPLACE "\n" ";" expected_lines "${expected}")
list(LENGTH actual_lines n_actual)
list(LENGTH expected_lines n_expected)
set(mismatch "")
if(NOT n_actual EQUAL n_expected)
  set(mismatch "expected ${n_expected} lines, got ${n_actual}")
else()
  math(EXPR last "${n_expected} - 1")
  foreach(i RANGE ${last})
    list(GET actual_lines ${i} a)
    list(GET expected_lines ${i} e)
    string(REGEX REPLACE "[ \t\r]+$" "" a "${a}")
    string(REGEX REPLACE "[ \t\r]+$" "" e "${e}")
    # Escape regex metacharacters, then turn {} into a wildcard.
    string(REGEX REPLACE "([][.*+?^$()|\\\\])" "\\\\\\1" pattern "${e}")
    string(REPLACE "{}" ".+" pattern "${pattern}")
    if(NOT a MATCHES "^${pattern}$")
      math(EXPR lineno "${i} + 1")
      set(mismatch "line ${lineno}:\n  expected: ${e}\n  actual:   ${a}")
      break()
    endif()
  endforeach()
endif()
if(mismatch)
  string(REPLACE "<semicolon>" ";" actual "${actual}")
  message(FATAL_ERROR "output of ${PROGRAM} differs from ${EXPECTED}: "
                      "${mismatch}\nfull output:\n${actual}")
endif()
