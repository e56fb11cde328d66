# Package config for find_package(attendance [COMPONENTS <lib>...]).
#
# Each library is a component with an export file of its own
# (attendance-<lib>-targets.cmake), and each component finds only the packages
# it needs: a team that links attendance::ble_scan needs sdbus-c++, not
# PostgreSQL, libsodium, OpenSSL or Boost.URL, and attendance::beacon_id (what a
# broadcaster embeds) needs libsodium only. The libraries are static, so
# their private dependencies must be found here too. Without COMPONENTS every
# library is loaded (and every dependency found), as before 0.1.
#
# The table below must match each library's target_link_libraries in libs/; the
# install test (tests/install) builds a consumer per component with every other
# component's packages disabled, so a missing entry fails there.
include(CMakeFindDependencyMacro)
list(PREPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")

# In dependency order: a component's own attendance libraries come before it.
set(_attendance_components support dedup_cache jsonl_log beacon_id ble_scan http_server batch_client core)
set(_attendance_uses_support "")
set(_attendance_uses_dedup_cache support)
set(_attendance_uses_jsonl_log support)
set(_attendance_uses_beacon_id support)
set(_attendance_uses_ble_scan support)
set(_attendance_uses_http_server support)
set(_attendance_uses_batch_client support)
set(_attendance_uses_core support beacon_id)

set(_attendance_wanted ${${CMAKE_FIND_PACKAGE_NAME}_FIND_COMPONENTS})
if(NOT _attendance_wanted)
  set(_attendance_wanted ${_attendance_components})
endif()
foreach(_attendance_c IN LISTS _attendance_wanted)
  if(NOT _attendance_c IN_LIST _attendance_components)
    set(${CMAKE_FIND_PACKAGE_NAME}_FOUND FALSE)
    set(${CMAKE_FIND_PACKAGE_NAME}_NOT_FOUND_MESSAGE
        "attendance has no component '${_attendance_c}' (it has: ${_attendance_components})")
    return()
  endif()
endforeach()
# Add what the wanted components link, walking the table from the end so that
# what a dependency links is added too.
set(_attendance_reversed ${_attendance_components})
list(REVERSE _attendance_reversed)
foreach(_attendance_c IN LISTS _attendance_reversed)
  if(_attendance_c IN_LIST _attendance_wanted)
    list(APPEND _attendance_wanted ${_attendance_uses_${_attendance_c}})
  endif()
endforeach()

# The packages each component needs; macros, not functions, because
# find_dependency returns from the file that calls it when a package is missing.
macro(_attendance_find_packages component)
  if("${component}" STREQUAL "support")
    find_dependency(Boost 1.81.0...<1.82 CONFIG)
  elseif("${component}" STREQUAL "beacon_id")
    find_dependency(sodium)
  elseif("${component}" STREQUAL "ble_scan")
    find_dependency(sdbus-c++)
  elseif("${component}" STREQUAL "http_server")
    find_dependency(Threads)
    find_dependency(fmt)
  elseif("${component}" STREQUAL "batch_client")
    find_dependency(Threads)
    find_dependency(Boost 1.81.0...<1.82 CONFIG COMPONENTS url)
    find_dependency(OpenSSL)
  elseif("${component}" STREQUAL "core")
    find_dependency(Boost 1.81.0...<1.82 CONFIG COMPONENTS json)
    find_dependency(fmt)
    find_dependency(OpenSSL)
    find_dependency(pqxx)
    find_dependency(sodium)
  endif()
endmacro()

foreach(_attendance_c IN LISTS _attendance_components)
  if(_attendance_c IN_LIST _attendance_wanted)
    _attendance_find_packages(${_attendance_c})
    include("${CMAKE_CURRENT_LIST_DIR}/attendance-${_attendance_c}-targets.cmake")
    set(${CMAKE_FIND_PACKAGE_NAME}_${_attendance_c}_FOUND TRUE)
  endif()
endforeach()

list(POP_FRONT CMAKE_MODULE_PATH)

# attendance::attendance_core was the core library's name until 0.1; kept for one release.
if(TARGET attendance::core AND NOT TARGET attendance::attendance_core)
  add_library(attendance::attendance_core INTERFACE IMPORTED)
  set_target_properties(attendance::attendance_core PROPERTIES INTERFACE_LINK_LIBRARIES attendance::core)
endif()
