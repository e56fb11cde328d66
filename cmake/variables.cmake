option(attendance_DEVELOPER_MODE "Build tests, benchmarks and fuzz regressions" OFF)
if(attendance_DEVELOPER_MODE AND NOT PROJECT_IS_TOP_LEVEL)
  message(AUTHOR_WARNING "attendance_DEVELOPER_MODE is for working on attendance itself, not for a project that includes it")
endif()
# A project that pulls attendance in with add_subdirectory/FetchContent wants the libraries, not our executables.
option(attendance_BUILD_APPS "Build the executables (scanner, sync, backend, admin)" "${PROJECT_IS_TOP_LEVEL}")
option(attendance_BUILD_BENCHMARKS "Build bench/ (developer mode only)" ON)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

include(GNUInstallDirs)
set(attendance_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/attendance"
    CACHE STRING "Where the package config goes")

# Sanitizers as a list ("address;undefined", "thread"), added to the compile and
# link flags of every target: a preset sets this instead of replacing
# CMAKE_CXX_FLAGS, so the warning flags of the `warnings` preset stay in force.
set(attendance_SANITIZERS "" CACHE STRING "Sanitizers to build with (address;undefined, thread)")
if(attendance_SANITIZERS)
  list(JOIN attendance_SANITIZERS "," attendance_sanitizer_list)
  add_compile_options(-fsanitize=${attendance_sanitizer_list} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${attendance_sanitizer_list})
  # GCC warns (-Wtsan, an error under -Werror) that TSan does not model
  # atomic_thread_fence, which Asio's fenced blocks use; the handlers they guard
  # are also ordered by the scheduler's mutex, which TSan sees.
  if("thread" IN_LIST attendance_SANITIZERS AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
  if("undefined" IN_LIST attendance_SANITIZERS)
    add_compile_options(-fno-sanitize-recover=undefined)
    # Clang 14's -fsanitize=function emits prologue data that coroutine frames
    # cannot hold ("Cannot represent a difference across sections"); every other
    # UBSan check stays on.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      add_compile_options(-fno-sanitize=function)
    endif()
  endif()
endif()

# The `fuzz` preset (clang): tests/fuzz builds real libFuzzer binaries instead of
# corpus replays; scripts/fuzz runs them.
option(attendance_FUZZ "Build tests/fuzz as libFuzzer binaries (clang only)" OFF)
