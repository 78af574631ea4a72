# Helpers that keep the per-directory CMakeLists declarative.
#
#   ssepush_add_library(NAME <layer> SRCS ... [DEPS ...] [PUBLIC_DEPS ...])
#       -> target ssepush_<layer>, alias ssepush::<layer>, headers in <dir>/include
#   ssepush_add_test(NAME <name> SRCS ... [DEPS ...] [INCLUDES ...] [LABELS ...] [TIMEOUT s])
#   ssepush_add_bench(NAME <name> SRCS ... [DEPS ...])
#   ssepush_add_fuzz(NAME <name> SRCS ... [DEPS ...] [CORPUS dir])
#
# Warnings are a private property of our own targets: embedders who link
# ssepush::engine never inherit -Werror.

set(SSEPUSH_WARNINGS
    -Wall -Wextra -Werror -Wnon-virtual-dtor -Wmissing-declarations
    -Wundef -Wcast-qual -Wimplicit-fallthrough)

if(SSEPUSH_SANITIZE)
  add_compile_options(-fsanitize=${SSEPUSH_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${SSEPUSH_SANITIZE})
  if(SSEPUSH_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
if(SSEPUSH_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SSEPUSH_FUZZ needs clang (CXX=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

function(ssepush_add_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  set(t ssepush_${A_NAME})
  add_library(${t} ${A_SRCS})
  add_library(ssepush::${A_NAME} ALIAS ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${A_NAME} OUTPUT_NAME ssepush_${A_NAME}
                                        POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${t} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${t} PUBLIC cxx_std_20)
  target_compile_options(${t} PRIVATE ${SSEPUSH_WARNINGS})
  target_link_libraries(${t} PRIVATE ${A_DEPS} PUBLIC ${A_PUBLIC_DEPS})
  install(TARGETS ${t} EXPORT ssepush-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

function(ssepush_add_test)
  cmake_parse_arguments(A "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS;INCLUDES" ${ARGN})
  if(NOT SSEPUSH_BUILD_TESTS)
    return()
  endif()
  find_package(GTest REQUIRED)
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${SSEPUSH_WARNINGS})
  target_include_directories(${A_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${A_INCLUDES})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  add_test(NAME ${A_NAME} COMMAND ${A_NAME})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  set_tests_properties(${A_NAME} PROPERTIES TIMEOUT ${A_TIMEOUT} LABELS "${A_LABELS}")
endfunction()

function(ssepush_add_bench)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  find_package(benchmark REQUIRED)
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${SSEPUSH_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} benchmark::benchmark benchmark::benchmark_main)
endfunction()

function(ssepush_add_fuzz)
  cmake_parse_arguments(A "" "NAME;CORPUS" "SRCS;DEPS" ${ARGN})
  if(NOT SSEPUSH_FUZZ)
    return()
  endif()
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${SSEPUSH_WARNINGS})
  target_link_options(${A_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  # A short smoke run over the seed corpus keeps the target honest in ctest;
  # tools/dev/fuzz.sh runs the long, time-bounded campaign.
  if(A_CORPUS)
    add_test(NAME ${A_NAME}_corpus COMMAND ${A_NAME} -runs=0 ${A_CORPUS})
    set_tests_properties(${A_NAME}_corpus PROPERTIES LABELS fuzz TIMEOUT 120)
  endif()
endfunction()

# checkheaders: every public header of a layer compiles on its own (it
# includes what it uses). Built with the tests, one tiny TU per header.
function(ssepush_check_headers LAYER)
  if(NOT SSEPUSH_BUILD_TESTS)
    return()
  endif()
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/include/ssepush/${LAYER}/*.h)
  set(srcs)
  foreach(h IN LISTS headers)
    file(RELATIVE_PATH rel ${CMAKE_CURRENT_SOURCE_DIR}/include ${h})
    string(MAKE_C_IDENTIFIER ${rel} id)
    set(tu ${CMAKE_CURRENT_BINARY_DIR}/checkheaders/${id}.cc)
    file(CONFIGURE OUTPUT ${tu} CONTENT "#include \"${rel}\"\n")
    list(APPEND srcs ${tu})
  endforeach()
  add_library(ssepush_${LAYER}_checkheaders OBJECT ${srcs})
  target_compile_options(ssepush_${LAYER}_checkheaders PRIVATE ${SSEPUSH_WARNINGS})
  target_link_libraries(ssepush_${LAYER}_checkheaders PRIVATE ssepush::${LAYER})
endfunction()
