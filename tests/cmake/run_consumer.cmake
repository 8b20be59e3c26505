# run_consumer.cmake — builds and runs tests/cmake/consumer against goroscope.
#   cmake -DMODE=subdirectory|package -DSOURCE=<repo> -DBUILD=<goroscope build dir>
#         -DWORK=<scratch dir> -DCXX=<compiler> -P run_consumer.cmake
# subdirectory: the consumer's build holds the runtime only (no viewer,
#   examples, tests or benchmarks: they are on only when goroscope is the
#   top-level project).
# package: BUILD installed to WORK/prefix; the consumer found with
#   find_package; from the prefix alone, the GDB plugin loads by hand and
#   through the program's auto-load entry, the LLDB plugin loads, and
#   goroscope-view runs (README "From CMake").
file(REMOVE_RECURSE ${WORK})
set(args -DCMAKE_CXX_COMPILER=${CXX} -DGOROSCOPE_MODE=${MODE} -DGOROSCOPE_SOURCE_DIR=${SOURCE})
set(prefix ${WORK}/prefix)
if(MODE STREQUAL "package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "install of goroscope failed: ${rc}")
  endif()
  list(APPEND args -DCMAKE_PREFIX_PATH=${prefix})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE}/tests/cmake/consumer -B ${WORK}/build -G Ninja ${args}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()

if(MODE STREQUAL "subdirectory")
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build --target help
                  OUTPUT_VARIABLE targets RESULT_VARIABLE rc)
  if(rc OR NOT targets MATCHES "goro_runtime")
    message(FATAL_ERROR "the consumer's targets (${rc}) lack goro_runtime:\n${targets}")
  endif()
  foreach(unwanted goroscope-view goroscope_viewmodel goroscope-demo gallery_ goro_runtime_test
                   gdb_fixture_ goro_map_bench goroscope_conformance_corpus)
    string(FIND "${targets}" "${unwanted}" at)
    if(at GREATER_EQUAL 0)
      message(FATAL_ERROR "add_subdirectory(goroscope) builds ${unwanted}: only the runtime "
                          "should be built:\n${targets}")
    endif()
  endforeach()
endif()

execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
if(NOT MODE STREQUAL "package")
  return()
endif()

# ---- the install prefix alone: plugins, auto-load, viewer ----
set(share ${prefix}/share/goroscope)
foreach(f gdb_plugin/goroscope-gdb.py lldb_plugin/goroscope_lldb_init.py python/goroscope/__init__.py)
  if(NOT EXISTS ${share}/${f})
    message(FATAL_ERROR "not installed: ${share}/${f}")
  endif()
endforeach()

# check(NAME WANT CMD...): run CMD (stdin /dev/null, 2 minutes at most);
# its output (stdout and stderr) must match the regex WANT.
function(check name want)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=GOROSCOPE_GDB_PLUGIN --unset=PYTHONPATH
                          ${ARGN}
                  INPUT_FILE /dev/null OUTPUT_VARIABLE out ERROR_VARIABLE out
                  RESULT_VARIABLE rc TIMEOUT 120)
  if(rc OR NOT out MATCHES "${want}")
    message(FATAL_ERROR "${name} (exit ${rc}): want /${want}/ in:\n${out}")
  endif()
  message(STATUS "${name}: ok")
endfunction()

set(from_prefix "plugin ${share}/[a-z_]+/goroscope_[a-z]+/__init__.py")
find_program(GDB gdb)
if(GDB)
  check("GDB: source the installed plugin" "goroscope print-limit is [0-9]+.*${from_prefix}"
        ${GDB} -nx -batch -ex "source ${share}/gdb_plugin/goroscope-gdb.py" -ex "goroscope show"
        -ex "python print('plugin', __import__('goroscope_gdb').__file__)")
  # A program installed in the prefix: its .debug_gdb_scripts entry finds
  # the plugin next to it (../share/goroscope), not in the source tree.
  file(COPY ${WORK}/build/consumer DESTINATION ${prefix}/bin)
  check("GDB: auto-load from the prefix" "${from_prefix}"
        ${GDB} -nx -batch -iex "add-auto-load-safe-path ${prefix}/bin/consumer"
        -ex "python print('plugin', __import__('goroscope_gdb').__file__)"
        ${prefix}/bin/consumer)
else()
  message(STATUS "GDB: not found, not checked")
endif()
find_program(LLDB NAMES lldb-16 lldb)
if(LLDB)
  check("LLDB: import the installed plugin" "goroscope print-limit is [0-9]+.*${from_prefix}"
        ${LLDB} -b -o "command script import ${share}/lldb_plugin/goroscope_lldb_init.py"
        -o "goroscope show" -o "script print('plugin', __import__('goroscope_lldb').__file__)")
else()
  message(STATUS "LLDB: not found, not checked")
endif()
if(EXISTS ${BUILD}/bin/goroscope-view)  # (built when Dear ImGui and GLFW are there)
  check("goroscope-view --help" "usage: goroscope-view" ${prefix}/bin/goroscope-view --help)
endif()
