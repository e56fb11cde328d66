# Find module for libsodium, which ships only a pkg-config file on Debian 12.
# Provides the imported target sodium::sodium and sodium_FOUND / sodium_VERSION.
include(FindPackageHandleStandardArgs)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_sodium QUIET libsodium>=1.0.18)
endif()

find_path(sodium_INCLUDE_DIR NAMES sodium.h HINTS ${PC_sodium_INCLUDE_DIRS})
find_library(sodium_LIBRARY NAMES sodium HINTS ${PC_sodium_LIBRARY_DIRS})
set(sodium_VERSION "${PC_sodium_VERSION}")

find_package_handle_standard_args(
  sodium
  REQUIRED_VARS sodium_LIBRARY sodium_INCLUDE_DIR
  VERSION_VAR sodium_VERSION
)

if(sodium_FOUND AND NOT TARGET sodium::sodium)
  add_library(sodium::sodium UNKNOWN IMPORTED)
  set_target_properties(
    sodium::sodium PROPERTIES
    IMPORTED_LOCATION "${sodium_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${sodium_INCLUDE_DIR}"
  )

endif()

mark_as_advanced(sodium_INCLUDE_DIR sodium_LIBRARY)
