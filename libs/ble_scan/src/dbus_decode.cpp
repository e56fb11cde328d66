#include "dbus_decode.hpp"

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Message.h>

#include <map>
#include <vector>

namespace attendance::ble_scan::decode {

namespace {

// BlueZ reports at most a handful of entries; anything larger is hostile or broken.
constexpr std::size_t kMaxEntries = 32;

template <class T>
std::optional<T> extract(const sdbus::Variant& v) noexcept {
  try {
    if (v.isEmpty() || !v.containsValueOfType<T>()) {
      return std::nullopt;
    }
    return v.get<T>();
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<bool> asBool(const sdbus::Variant& v) noexcept { return extract<bool>(v); }
std::optional<std::int16_t> asInt16(const sdbus::Variant& v) noexcept { return extract<std::int16_t>(v); }
std::optional<std::string> asString(const sdbus::Variant& v) noexcept { return extract<std::string>(v); }

bool manufacturerData(const sdbus::Variant& v, Advertisement& out) noexcept {
  auto map = extract<std::map<std::uint16_t, sdbus::Variant>>(v);
  if (!map) {
    return false;
  }
  bool ok = map->size() <= kMaxEntries;
  std::size_t n = 0;
  for (const auto& [company, value] : *map) {
    if (n++ == kMaxEntries) {
      break;
    }
    auto bytes = extract<std::vector<std::uint8_t>>(value);
    if (!bytes || bytes->size() > kMaxFieldBytes) {
      ok = false;
      continue;
    }
    try {
      out.manufacturerData.push_back(ManufacturerEntry{company, std::move(*bytes)});
    } catch (...) {
      return false;
    }
  }
  return ok;
}

bool serviceData(const sdbus::Variant& v, Advertisement& out) noexcept {
  auto map = extract<std::map<std::string, sdbus::Variant>>(v);
  if (!map) {
    return false;
  }
  bool ok = map->size() <= kMaxEntries;
  std::size_t n = 0;
  for (const auto& [key, value] : *map) {
    if (n++ == kMaxEntries) {
      break;
    }
    const auto uuid = support::Uuid::parse(key);
    auto bytes = extract<std::vector<std::uint8_t>>(value);
    if (!uuid || !bytes || bytes->size() > kMaxFieldBytes) {
      ok = false;
      continue;
    }
    try {
      out.serviceData.push_back(ServiceDataEntry{*uuid, std::move(*bytes)});
    } catch (...) {
      return false;
    }
  }
  return ok;
}

bool uuids(const sdbus::Variant& v, Advertisement& out) noexcept {
  auto list = extract<std::vector<std::string>>(v);
  if (!list) {
    return false;
  }
  bool ok = list->size() <= kMaxEntries;
  std::size_t n = 0;
  for (const auto& text : *list) {
    if (n++ == kMaxEntries) {
      break;
    }
    if (auto u = support::Uuid::parse(text)) {
      try {
        out.serviceUuids.push_back(*u);
      } catch (...) {
        return false;
      }
    } else {
      ok = false;
    }
  }
  return ok;
}

}  // namespace attendance::ble_scan::decode
