# attendance_add_library(<name> SOURCES ... [PUBLIC ...] [PRIVATE ...])
#
# Creates the static library attendance_<name> with the alias attendance::<name>,
# public headers under libs/<name>/include/attendance/<name>/ and private sources
# under libs/<name>/src/. The target is registered for install and export, so an
# outside project can find_package(attendance) and link attendance::<name>.
set_property(GLOBAL PROPERTY attendance_EXPORTED_LIBRARIES "")

function(attendance_add_library name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC;PRIVATE")
  set(target "attendance_${name}")
  add_library(${target} STATIC ${arg_SOURCES})
  add_library(attendance::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${name}
    OUTPUT_NAME attendance_${name}
    POSITION_INDEPENDENT_CODE ON
  )
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target}
    PUBLIC
      "$<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>"
      "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>"
    PRIVATE
      "${CMAKE_CURRENT_SOURCE_DIR}/src"
  )
  target_link_libraries(${target} PUBLIC ${arg_PUBLIC} PRIVATE ${arg_PRIVATE})
  set_property(GLOBAL APPEND PROPERTY attendance_EXPORTED_LIBRARIES ${target})
endfunction()

# attendance_add_app(<exe-name> COMPONENT <install component> SOURCES ... [LIBS ...])
# A thin executable: main() wires adapters and calls run(). COMPONENT is the
# package it ships in (cmake/packaging.cmake): attendance_Scanner or attendance_Server.
function(attendance_add_app exe)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "COMPONENT" "SOURCES;LIBS")
  if(NOT arg_COMPONENT)
    message(FATAL_ERROR "attendance_add_app(${exe}): COMPONENT is required (the package it ships in)")
  endif()
  add_executable(${exe} ${arg_SOURCES})
  target_link_libraries(${exe} PRIVATE ${arg_LIBS})
  install(TARGETS ${exe} RUNTIME COMPONENT ${arg_COMPONENT})
endfunction()

# attendance_embed_text(<target> INPUT <file> NAMESPACE <ns> FUNCTION <name>)
# Adds to <target> a generated source defining `std::string_view <ns>::<name>()`, the
# file's text (cmake/embed-text.cmake); regenerated whenever the file changes.
function(attendance_embed_text target)
  cmake_parse_arguments(arg "" "INPUT;NAMESPACE;FUNCTION" "" ${ARGN})
  set(output "${CMAKE_CURRENT_BINARY_DIR}/generated/${arg_FUNCTION}_embedded.cpp")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" "-DINPUT=${arg_INPUT}" "-DOUTPUT=${output}" "-DNAMESPACE=${arg_NAMESPACE}"
            "-DFUNCTION=${arg_FUNCTION}" -P "${PROJECT_SOURCE_DIR}/cmake/embed-text.cmake"
    DEPENDS "${arg_INPUT}" "${PROJECT_SOURCE_DIR}/cmake/embed-text.cmake"
    COMMENT "Embedding ${arg_INPUT}"
    VERBATIM)
  target_sources(${target} PRIVATE "${output}")
endfunction()
