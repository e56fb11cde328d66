# Package config for find_package(attendance). The libraries are static, so their
# dependencies must be found here too.
include(CMakeFindDependencyMacro)
list(PREPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")

find_dependency(Threads)
find_dependency(Boost 1.81.0...<1.82 CONFIG COMPONENTS json url)
find_dependency(fmt)
find_dependency(sdbus-c++)
find_dependency(OpenSSL)
find_dependency(pqxx)
find_dependency(sodium)

list(POP_FRONT CMAKE_MODULE_PATH)
include("${CMAKE_CURRENT_LIST_DIR}/attendanceTargets.cmake")

# attendance::attendance_core was the core library's name until 0.1; kept for one release.
if(TARGET attendance::core AND NOT TARGET attendance::attendance_core)
  add_library(attendance::attendance_core INTERFACE IMPORTED)
  set_target_properties(attendance::attendance_core PROPERTIES INTERFACE_LINK_LIBRARIES attendance::core)
endif()
