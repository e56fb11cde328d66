# step(<command> <args>...): runs the command and stops the script (FATAL_ERROR with the
# command and its output) when it fails; its stdout is left in `step_output`.
# Included by the install tests' cmake -P scripts.
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()
