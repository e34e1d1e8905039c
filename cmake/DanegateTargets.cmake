# danegate_library(NAME SOURCES ... DEPS ...): a module library with the
# project's include root and warnings.
function(danegate_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE danegate_warnings)
endfunction()

# danegate_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered
# with CTest (label "unit").
function(danegate_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main
                        danegate_warnings)
  # Temporary files stay in the build tree, not in /tmp.
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/test-tmp)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30
                       ENVIRONMENT TEST_TMPDIR=${CMAKE_BINARY_DIR}/test-tmp/)
endfunction()
