# cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DNAMESPACE=<ns> -DFUNCTION=<name> -P embed-text.cmake
#
# One text file as `std::string_view <ns>::<name>()` in a generated C++ source, so the
# program carries it and never reads it at run time (the admin console's assets work the
# same way, apps/admin/src/web/embed_assets.cmake). Runs at build time
# (attendance_embed_text), so editing the file rebuilds what serves it.
cmake_minimum_required(VERSION 3.25)

set(delim "att_text")
file(READ "${INPUT}" content)
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
set(out "// Generated from ${INPUT} by cmake/embed-text.cmake — do not edit.\n")
string(APPEND out "#include <string_view>\n\nnamespace ${NAMESPACE} {\n\n")
string(APPEND out "std::string_view ${FUNCTION}() {\n  return R\"${delim}(${content})${delim}\";\n}\n\n")
string(APPEND out "}  // namespace ${NAMESPACE}\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL out)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${out}")
