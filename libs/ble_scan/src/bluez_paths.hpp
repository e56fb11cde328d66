#pragma once

#include <string>

// BlueZ object paths: "/org/bluez/hci0" is an adapter, "/org/bluez/hci0/dev_AA_BB" one of its devices.
namespace attendance::ble_scan::detail {

// "hci0" for "/org/bluez/hci0".
inline std::string lastPathComponent(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "/org/bluez/hci0" for "/org/bluez/hci0/dev_AA_BB"; "" when there is no parent.
inline std::string parentPath(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

// "/org/bluez/hci0/dev_AA_BB" belongs to adapter "/org/bluez/hci0".
inline bool isUnder(const std::string& path, const std::string& parent) {
  return path.size() > parent.size() + 1 && path.compare(0, parent.size(), parent) == 0 && path[parent.size()] == '/';
}

}  // namespace attendance::ble_scan::detail
