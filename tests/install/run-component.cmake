# Runs with cmake -P: installs the build, then configures, builds and runs the
# consumer of tests/install/component for COMPONENT with every package that
# component does not need disabled (CMAKE_DISABLE_FIND_PACKAGE_<name>), as on a
# machine where their development packages are absent.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

include("${CMAKE_CURRENT_LIST_DIR}/step.cmake")

# The packages a component may look for; all others are made unfindable.
set(needs_ble_scan sdbus-c++)
set(needs_beacon_id sodium)
set(needs_batch_client OpenSSL)
set(needs_core OpenSSL pqxx sodium)
set(disabled "")
foreach(package IN ITEMS sdbus-c++ OpenSSL pqxx sodium)
  if(NOT package IN_LIST needs_${COMPONENT})
    list(APPEND disabled "-DCMAKE_DISABLE_FIND_PACKAGE_${package}=ON")
  endif()
endforeach()

step("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" --component attendance_Development)
step("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G Ninja
     "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release "-DATTENDANCE_COMPONENT=${COMPONENT}" ${disabled})
step("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
step("${WORK_DIR}/build/component_consumer")
string(FIND "${step_output}" "component consumer ok" found)
if(found EQUAL -1)
  message(FATAL_ERROR "the ${COMPONENT} consumer ran but did not report success:\n${step_output}")
endif()
message(STATUS "${COMPONENT}: ${step_output} (disabled: ${disabled})")
