# Test of the mandelbrot app (ctest app.mandelbrot). Renders a small image
# with 1 worker, with 4 workers, and with 3 workers that send every 7th row
# twice and lose every 5th row in the first round (at-least-once delivery),
# and checks that
# - each run writes exactly the PNG of mandelbrot_reference (byte for byte),
# - the SHA-256 each run prints is the file's (computed here by CMake),
# - the faulty run reports exactly ceil(height / 7) ignored duplicates and
#   ceil(height / 5) rows sent again in a second round.
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

foreach(run "1;0;0" "4;0;0" "3;7;5")
  list(GET run 0 workers)
  list(GET run 1 dup_every)
  list(GET run 2 lose_every)
  set(png "${WORKDIR}/w${workers}-d${dup_every}-l${lose_every}.png")
  execute_process(COMMAND "${APP}" --config-file=${CONFIG} --width=${width} --height=${height}
                          --max-iter=${max_iter} --workers=${workers}
                          --duplicate-every=${dup_every} --lose-every=${lose_every}
                          --out=${png}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "workers=${workers} duplicate-every=${dup_every} lose-every=${lose_every}:\n${out}")
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
  set(dups 0)
  set(resent 0)
  set(rounds 1)
  if(dup_every GREATER 0)
    math(EXPR dups "(${height} + ${dup_every} - 1) / ${dup_every}")
  endif()
  if(lose_every GREATER 0)
    math(EXPR resent "(${height} + ${lose_every} - 1) / ${lose_every}")
    set(rounds 2)
  endif()
  set(summary "rows: ${height}, duplicates ignored: ${dups}, rows sent again: ${resent}, rounds: ${rounds}")
  if(NOT out MATCHES "${summary}\n")
    message(FATAL_ERROR "expected the line: ${summary}")
  endif()
endforeach()
