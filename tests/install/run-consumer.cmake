# Runs with cmake -P: install, configure the consumer, build it, run it.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

include("${CMAKE_CURRENT_LIST_DIR}/step.cmake")

step("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" --component attendance_Development)
step("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
step("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
step("${WORK_DIR}/build/consumer")
string(FIND "${step_output}" "consumer ok" found)
if(found EQUAL -1)
  message(FATAL_ERROR "consumer ran but did not report success:\n${step_output}")
endif()
message(STATUS "${step_output}")
