# Test app.mandelbrot.picture: renders the README's picture again and compares
# it with the committed file byte for byte.
# Usage: cmake -DAPP=exe -DCONFIG=ini -DPICTURE=png -DWORKDIR=dir -P check_picture.cmake
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
execute_process(COMMAND "${APP}" --config-file=${CONFIG} --width=480 --height=360 --workers=2
                        --duplicate-every=10 --out=${WORKDIR}/mandelbrot.png
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "mandelbrot exited with ${status}\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORKDIR}/mandelbrot.png" "${PICTURE}"
                RESULT_VARIABLE differ)
if(NOT differ EQUAL 0)
  message(FATAL_ERROR "the app no longer renders ${PICTURE} (or zlib differs)\n${out}")
endif()
message(STATUS "${out}")
