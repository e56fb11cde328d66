# Every dependency comes from a Debian 12 package (third_party/README.md says why).
list(APPEND CMAKE_MODULE_PATH "${PROJECT_SOURCE_DIR}/cmake/modules")

find_package(Threads REQUIRED)
find_package(Boost 1.81.0...<1.82 CONFIG REQUIRED COMPONENTS json url)
find_package(fmt REQUIRED)
find_package(sdbus-c++ REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(pqxx REQUIRED)
find_package(sodium REQUIRED)

if(attendance_BUILD_APPS)
  find_package(CLI11 REQUIRED)
  find_package(tomlplusplus REQUIRED)
  find_package(systemd REQUIRED)
  find_package(qrencode REQUIRED)  # the participant web app's QR code (backend)
endif()
