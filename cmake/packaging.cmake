# Debian packages with CPack (docs/packaging.md); scripts/package runs it.
#
#   attendance-scanner   attendance-scanner, attendance-sync, attendance-beacon, the units, the D-Bus
#                        policy, /etc/attendance/scanner.toml (conffile)
#   attendance-server    attendance-backend, attendance-admin, their units,
#                        /etc/attendance/server.env and server.toml (conffiles), an example
#                        HAProxy configuration terminating TLS (examples/haproxy-attendance-tls.cfg)
#   libattendance-dev    the headers, static libraries and CMake package
#
# The files that only make sense on a Debian system (units, D-Bus policy, /etc)
# name the Debian paths (/usr/bin, /etc/attendance, /var/lib/attendance) whatever
# CMAKE_INSTALL_PREFIX is, and are EXCLUDE_FROM_ALL: the packages (which install
# each component explicitly) get them, a plain `cmake --install --prefix …` does not.

set(attendance_PACKAGE_DIR "${PROJECT_SOURCE_DIR}/packaging")

# --- the system files of each package ----------------------------------------
install(FILES apps/scanner/systemd/attendance-scanner.service apps/scanner/systemd/attendance-sync-follow.service
        DESTINATION /usr/lib/systemd/system COMPONENT attendance_Scanner EXCLUDE_FROM_ALL)
install(FILES apps/scanner/systemd/attendance-scanner.dbus.conf
        DESTINATION /usr/share/dbus-1/system.d RENAME attendance-scanner.conf
        COMPONENT attendance_Scanner EXCLUDE_FROM_ALL)
install(FILES apps/scanner/systemd/scanner.toml.example
        DESTINATION /etc/attendance RENAME scanner.toml COMPONENT attendance_Scanner EXCLUDE_FROM_ALL)
install(FILES apps/scanner/systemd/scanner.toml.example
              docs/scanner.md docs/sync.md docs/beacon.md docs/log-format.md docs/ble.md docs/packaging.md
        DESTINATION /usr/share/doc/attendance-scanner COMPONENT attendance_Scanner EXCLUDE_FROM_ALL)

install(FILES apps/backend/systemd/attendance-backend.service apps/admin/systemd/attendance-admin.service
        DESTINATION /usr/lib/systemd/system COMPONENT attendance_Server EXCLUDE_FROM_ALL)
install(FILES "${attendance_PACKAGE_DIR}/server.env" "${attendance_PACKAGE_DIR}/server.toml"
        DESTINATION /etc/attendance COMPONENT attendance_Server EXCLUDE_FROM_ALL)
install(FILES docs/backend.md docs/admin-cli.md docs/admin-web.md docs/storage.md docs/packaging.md
        DESTINATION /usr/share/doc/attendance-server COMPONENT attendance_Server EXCLUDE_FROM_ALL)
# HAProxy terminating TLS in front of both servers (ADR 0041), tested by tests/scale/tls_proxy.py.
install(FILES "${attendance_PACKAGE_DIR}/haproxy/attendance-tls.cfg"
        DESTINATION /usr/share/doc/attendance-server/examples RENAME haproxy-attendance-tls.cfg
        COMPONENT attendance_Server EXCLUDE_FROM_ALL)

# --- CPack ---------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME attendance)
set(CPACK_PACKAGE_VENDOR "attendance")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "attendance maintainers <maintainers@attendance.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The .deb files go to dist/ of the source tree; the staging trees stay in the build tree.
set(CPACK_OUTPUT_FILE_PREFIX "${PROJECT_SOURCE_DIR}/dist")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL attendance_Scanner attendance_Server attendance_Development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# xz (the smallest); tests/package passes -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip, several times faster.
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

# Library dependencies of the programs from dpkg-shlibdeps; what they need besides.
set(CPACK_DEBIAN_ATTENDANCE_SCANNER_PACKAGE_NAME attendance-scanner)
set(CPACK_DEBIAN_ATTENDANCE_SCANNER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ATTENDANCE_SCANNER_PACKAGE_DEPENDS "adduser, dbus")
set(CPACK_DEBIAN_ATTENDANCE_SCANNER_PACKAGE_RECOMMENDS "bluez")
set(CPACK_DEBIAN_ATTENDANCE_SCANNER_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_ATTENDANCE_SCANNER_DESCRIPTION "Offline BLE attendance scanner and log upload
 attendance-scanner logs the participants' phones it hears over Bluetooth LE
 (BlueZ) to a local JSON Lines log, with no network; attendance-sync uploads
 the log to the backend afterwards, or live beside the scanner; attendance-beacon
 is the participants' broadcaster for Linux devices. The scanner runs as the
 system user attendance under systemd.")

set(CPACK_DEBIAN_ATTENDANCE_SERVER_PACKAGE_NAME attendance-server)
set(CPACK_DEBIAN_ATTENDANCE_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ATTENDANCE_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_ATTENDANCE_SERVER_PACKAGE_SUGGESTS "postgresql (>= 15)")
set(CPACK_DEBIAN_ATTENDANCE_SERVER_PACKAGE_SECTION web)
set(CPACK_DEBIAN_ATTENDANCE_SERVER_DESCRIPTION "Attendance backend and admin web console
 attendance-backend stores the scanners' uploads in PostgreSQL and serves the
 participant API; attendance-admin is the management command line and the
 admin web console with the attendance report. Runs as the system user
 attendance-server under systemd.")

# The libraries are static: a consumer links their dependencies itself, so the
# -dev packages of those are what this one depends on (cmake/install-config.cmake).
set(CPACK_DEBIAN_ATTENDANCE_DEVELOPMENT_PACKAGE_NAME libattendance-dev)
set(CPACK_DEBIAN_ATTENDANCE_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_ATTENDANCE_DEVELOPMENT_PACKAGE_DEPENDS
    "libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libfmt-dev, libsdbus-c++-dev, libsodium-dev, libssl-dev, libpqxx-dev, libpq-dev")
set(CPACK_DEBIAN_ATTENDANCE_DEVELOPMENT_PACKAGE_SUGGESTS "cmake (>= 3.25)")
set(CPACK_DEBIAN_ATTENDANCE_DEVELOPMENT_DESCRIPTION "Attendance libraries (static) and their CMake package
 The libraries the attendance programs are built from (support, dedup_cache,
 jsonl_log, beacon_id, ble_scan, http_server, batch_client, core) as static
 libraries with their headers, for find_package(attendance COMPONENTS ...).")

# Maintainer scripts (the system users, systemd) and conffiles (every file under
# /etc: dpkg keeps the operator's edits on upgrade): packaging/debian/<package>/.
foreach(pkg IN ITEMS scanner server)
  string(TOUPPER "${pkg}" upper)
  set(control_dir "${attendance_PACKAGE_DIR}/debian/attendance-${pkg}")
  set(CPACK_DEBIAN_ATTENDANCE_${upper}_PACKAGE_CONTROL_EXTRA
      "${control_dir}/conffiles" "${control_dir}/postinst" "${control_dir}/prerm" "${control_dir}/postrm")
endforeach()

include(CPack)
