# Which headers an install ships: every public header (<root>/rotina/*.hpp,
# i.e. not under a detail/ folder) and every rotina header those include,
# directly or through others (`#include "rotina/..."` or `<rotina/...>`). An
# internal header that only .cpp files, tests or benchmarks include stays out
# of the install tree, and a new public header or include needs no CMake edit.

# rotina_installed_headers(<out> <root>...): sets <out> to a list of
# "<root>|rotina/<path>.hpp" entries, sorted.
function(rotina_installed_headers out)
  set(roots ${ARGN})
  set(queue "")
  foreach(root IN LISTS roots)
    file(GLOB public RELATIVE "${root}" "${root}/rotina/*.hpp")
    foreach(rel IN LISTS public)
      list(APPEND queue "${root}|${rel}")
    endforeach()
  endforeach()
  set(seen "")
  while(queue)
    list(POP_FRONT queue entry)
    # (list(FIND): install scripts run without policies, so no IN_LIST.)
    list(FIND seen "${entry}" index)
    if(NOT index EQUAL -1)
      continue()
    endif()
    list(APPEND seen "${entry}")
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 root)
    list(GET parts 1 rel)
    file(STRINGS "${root}/${rel}" includes
         REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]rotina/[^>\"]+[>\"]")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE ".*[<\"](rotina/[^>\"]+)[>\"].*" "\\1" inc "${line}")
      set(found FALSE)
      foreach(r IN LISTS roots)
        if(EXISTS "${r}/${inc}")
          list(APPEND queue "${r}|${inc}")
          set(found TRUE)
          break()
        endif()
      endforeach()
      if(NOT found)
        message(FATAL_ERROR "${root}/${rel} includes ${inc}, which is in "
                            "none of ${roots}")
      endif()
    endforeach()
  endwhile()
  list(SORT seen)
  set(${out} "${seen}" PARENT_SCOPE)
endfunction()

# In install(CODE): copies the headers of the roots in ROTINA_HEADER_ROOTS to
# ${CMAKE_INSTALL_PREFIX}/${ROTINA_HEADER_DESTINATION} (relative destination).
function(rotina_install_headers)
  rotina_installed_headers(headers ${ROTINA_HEADER_ROOTS})
  foreach(entry IN LISTS headers)
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 root)
    list(GET parts 1 rel)
    get_filename_component(dir "${rel}" DIRECTORY)
    file(INSTALL "${root}/${rel}" DESTINATION
         "${CMAKE_INSTALL_PREFIX}/${ROTINA_HEADER_DESTINATION}/${dir}")
  endforeach()
endfunction()
