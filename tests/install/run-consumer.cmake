# Runs with cmake -P: install, configure the consumer, build it, run it.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

include("${CMAKE_CURRENT_LIST_DIR}/step.cmake")

step("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" --component attendance_Development)
step("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release "-DATTENDANCE_EXAMPLES_DIR=${EXAMPLES_DIR}")
step("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
step("${WORK_DIR}/build/consumer")
string(FIND "${step_output}" "consumer ok" found)
if(found EQUAL -1)
  message(FATAL_ERROR "consumer ran but did not report success:\n${step_output}")
endif()
message(STATUS "${step_output}")

# docs/libraries.md's examples: each runs and exits 0 (core's database part only with DATABASE_URL).
foreach(lib IN ITEMS support dedup_cache jsonl_log ble_scan beacon_id batch_client http_server core)
  step("${CMAKE_COMMAND}" -E env --unset=DATABASE_URL "${WORK_DIR}/build/example_${lib}")
  message(STATUS "example_${lib}:\n${step_output}")
endforeach()
