# Test of the mandelbrot app (ctest app.mandelbrot). Renders a small image
# with 1 worker, with 4 workers, and with 3 workers that send every 7th row
# twice (at-least-once delivery), and checks that
# - each run writes exactly the PNG of mandelbrot_reference (byte for byte),
# - the SHA-256 each run prints is the file's (computed here by CMake),
# - the redelivering run reports exactly ceil(height / 7) ignored duplicates.
# Usage: cmake -DAPP=exe -DREFERENCE=exe -DCONFIG=ini -DWORKDIR=dir -P check.cmake
set(width 160)
set(height 120)
set(max_iter 200)
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")

execute_process(COMMAND "${REFERENCE}" ${width} ${height} ${max_iter} "${WORKDIR}/reference.png"
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "mandelbrot_reference failed: ${status}")
endif()
file(SHA256 "${WORKDIR}/reference.png" expected_sha)
message(STATUS "reference sha256: ${expected_sha}")

math(EXPR expected_dups "(${height} + 6) / 7")
foreach(run "1;0" "4;0" "3;7")
  list(GET run 0 workers)
  list(GET run 1 dup_every)
  set(png "${WORKDIR}/w${workers}-d${dup_every}.png")
  execute_process(COMMAND "${APP}" --config-file=${CONFIG} --width=${width} --height=${height}
                          --max-iter=${max_iter} --workers=${workers}
                          --duplicate-every=${dup_every} --out=${png}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "workers=${workers} duplicate-every=${dup_every}:\n${out}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "mandelbrot exited with ${status}\n${out}\n${err}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${png}" "${WORKDIR}/reference.png"
                  RESULT_VARIABLE differ)
  if(NOT differ EQUAL 0)
    message(FATAL_ERROR "${png} differs from the reference image")
  endif()
  if(NOT out MATCHES "sha256: ${expected_sha}\n")
    message(FATAL_ERROR "printed checksum is not the file's ${expected_sha}")
  endif()
  if(dup_every EQUAL 0)
    set(dups 0)
  else()
    set(dups ${expected_dups})
  endif()
  if(NOT out MATCHES "rows: ${height}, duplicates ignored: ${dups}\n")
    message(FATAL_ERROR "expected ${dups} ignored duplicates")
  endif()
endforeach()
