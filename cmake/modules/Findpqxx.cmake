# Find module for libpqxx, which ships only a pkg-config file on Debian 12.
# Provides the imported target pqxx::pqxx and pqxx_FOUND / pqxx_VERSION.
include(FindPackageHandleStandardArgs)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_pqxx QUIET libpqxx>=6.4)
endif()

find_path(pqxx_INCLUDE_DIR NAMES pqxx/pqxx HINTS ${PC_pqxx_INCLUDE_DIRS})
find_library(pqxx_LIBRARY NAMES pqxx HINTS ${PC_pqxx_LIBRARY_DIRS})
set(pqxx_VERSION "${PC_pqxx_VERSION}")

find_package_handle_standard_args(
  pqxx
  REQUIRED_VARS pqxx_LIBRARY pqxx_INCLUDE_DIR
  VERSION_VAR pqxx_VERSION
)

if(pqxx_FOUND AND NOT TARGET pqxx::pqxx)
  add_library(pqxx::pqxx UNKNOWN IMPORTED)
  set_target_properties(
    pqxx::pqxx PROPERTIES
    IMPORTED_LOCATION "${pqxx_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${pqxx_INCLUDE_DIR}"
  )
  # libpqxx links libpq; a static consumer needs it on the link line too.
  find_library(pqxx_PQ_LIBRARY NAMES pq HINTS ${PC_pqxx_LIBRARY_DIRS})
  if(pqxx_PQ_LIBRARY)
    set_property(TARGET pqxx::pqxx PROPERTY INTERFACE_LINK_LIBRARIES "${pqxx_PQ_LIBRARY}")
  endif()
endif()

mark_as_advanced(pqxx_INCLUDE_DIR pqxx_LIBRARY)
