# run_consumer.cmake — builds and runs tests/cmake/consumer against goroscope.
#   cmake -DMODE=subdirectory|package -DSOURCE=<repo> -DBUILD=<goroscope build dir>
#         -DWORK=<scratch dir> -DCXX=<compiler> -P run_consumer.cmake
file(REMOVE_RECURSE ${WORK})
set(args -DCMAKE_CXX_COMPILER=${CXX} -DGOROSCOPE_MODE=${MODE} -DGOROSCOPE_SOURCE_DIR=${SOURCE})
if(MODE STREQUAL "package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "install of goroscope failed: ${rc}")
  endif()
  list(APPEND args -DCMAKE_PREFIX_PATH=${WORK}/prefix)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE}/tests/cmake/consumer -B ${WORK}/build -G Ninja ${args}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
