option(attendance_DEVELOPER_MODE "Build tests, benchmarks and fuzz regressions" OFF)
option(attendance_BUILD_APPS "Build the executables (scanner, sync, backend, admin)" ON)
option(attendance_BUILD_BENCHMARKS "Build bench/ (developer mode only)" ON)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

include(GNUInstallDirs)
set(attendance_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/attendance"
    CACHE STRING "Where the package config goes")
