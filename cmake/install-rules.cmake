include(CMakePackageConfigHelpers)

get_property(attendance_libs GLOBAL PROPERTY attendance_EXPORTED_LIBRARIES)

set(attendance_include_dirs "")
foreach(lib IN LISTS attendance_LIBRARIES)
  list(APPEND attendance_include_dirs "libs/${lib}/include/")
endforeach()
install(
  DIRECTORY ${attendance_include_dirs}
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  COMPONENT attendance_Development
)

# One export file per library, so find_package(attendance COMPONENTS <lib>) loads
# only that library and finds only its dependencies (cmake/install-config.cmake).
foreach(target IN LISTS attendance_libs)
  get_target_property(name ${target} EXPORT_NAME)
  install(
    TARGETS ${target}
    EXPORT attendance_${name}_targets
    ARCHIVE COMPONENT attendance_Development
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  )
  install(
    EXPORT attendance_${name}_targets
    NAMESPACE attendance::
    FILE attendance-${name}-targets.cmake
    DESTINATION "${attendance_INSTALL_CMAKEDIR}"
    COMPONENT attendance_Development
  )
endforeach()

write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/attendanceConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion
)

install(
  FILES
    cmake/install-config.cmake
  DESTINATION "${attendance_INSTALL_CMAKEDIR}"
  RENAME attendanceConfig.cmake
  COMPONENT attendance_Development
)
install(
  FILES
    "${PROJECT_BINARY_DIR}/attendanceConfigVersion.cmake"
    cmake/modules/Findpqxx.cmake
    cmake/modules/Findsodium.cmake
  DESTINATION "${attendance_INSTALL_CMAKEDIR}"
  COMPONENT attendance_Development
)
