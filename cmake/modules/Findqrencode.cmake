# Find module for libqrencode (Debian 12 `libqrencode-dev`), which ships only a pkg-config file.
# Provides the imported target qrencode::qrencode and qrencode_FOUND / qrencode_VERSION.
include(FindPackageHandleStandardArgs)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_qrencode QUIET libqrencode>=4.1)
endif()

find_path(qrencode_INCLUDE_DIR NAMES qrencode.h HINTS ${PC_qrencode_INCLUDE_DIRS})
find_library(qrencode_LIBRARY NAMES qrencode HINTS ${PC_qrencode_LIBRARY_DIRS})
set(qrencode_VERSION "${PC_qrencode_VERSION}")

find_package_handle_standard_args(
  qrencode
  REQUIRED_VARS qrencode_LIBRARY qrencode_INCLUDE_DIR
  VERSION_VAR qrencode_VERSION
)

if(qrencode_FOUND AND NOT TARGET qrencode::qrencode)
  add_library(qrencode::qrencode UNKNOWN IMPORTED)
  set_target_properties(
    qrencode::qrencode PROPERTIES
    IMPORTED_LOCATION "${qrencode_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${qrencode_INCLUDE_DIR}"
  )

endif()

mark_as_advanced(qrencode_INCLUDE_DIR qrencode_LIBRARY)
