# Find module for libsystemd, which ships only a pkg-config file on Debian 12.
# Provides the imported target systemd::systemd and systemd_FOUND / systemd_VERSION.
include(FindPackageHandleStandardArgs)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_systemd QUIET libsystemd>=247)
endif()

find_path(systemd_INCLUDE_DIR NAMES systemd/sd-daemon.h HINTS ${PC_systemd_INCLUDE_DIRS})
find_library(systemd_LIBRARY NAMES systemd HINTS ${PC_systemd_LIBRARY_DIRS})
set(systemd_VERSION "${PC_systemd_VERSION}")

find_package_handle_standard_args(
  systemd
  REQUIRED_VARS systemd_LIBRARY systemd_INCLUDE_DIR
  VERSION_VAR systemd_VERSION
)

if(systemd_FOUND AND NOT TARGET systemd::systemd)
  add_library(systemd::systemd UNKNOWN IMPORTED)
  set_target_properties(
    systemd::systemd PROPERTIES
    IMPORTED_LOCATION "${systemd_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${systemd_INCLUDE_DIR}"
  )

endif()

mark_as_advanced(systemd_INCLUDE_DIR systemd_LIBRARY)
