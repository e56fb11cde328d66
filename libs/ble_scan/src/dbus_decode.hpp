#pragma once

#include <attendance/ble_scan/advertisement.hpp>

#include <sdbus-c++/Types.h>

#include <cstdint>
#include <optional>
#include <string>

// Defensive conversion of BlueZ Device1/Adapter1 property variants. Every
// function checks the variant's signature before extracting, so a value of the
// wrong type (python-dbusmock's AddDevice sends ManufacturerData as aa{qv}) is
// skipped instead of throwing. Private to ble_scan (keeps sdbus-c++ out of the
// public headers).
namespace attendance::ble_scan::decode {

[[nodiscard]] std::optional<bool> asBool(const sdbus::Variant& v) noexcept;
[[nodiscard]] std::optional<std::int16_t> asInt16(const sdbus::Variant& v) noexcept;
[[nodiscard]] std::optional<std::string> asString(const sdbus::Variant& v) noexcept;

// Append to `out`; return false when the value (or one entry) had the wrong type
// or exceeded a size limit. Good entries are kept either way.
bool manufacturerData(const sdbus::Variant& v, Advertisement& out) noexcept;  // a{qv} of ay
bool serviceData(const sdbus::Variant& v, Advertisement& out) noexcept;       // a{sv} of ay
bool uuids(const sdbus::Variant& v, Advertisement& out) noexcept;             // as

}  // namespace attendance::ble_scan::decode
