#pragma once

// What a broadcaster needs to know, exactly as the participant API gives it (GET /api/me/beacon,
// docs/backend.md) and as --save-settings keeps it:
//   {"namespace":"<20 hex>","bleUuid":"<uuid>","periodSeconds":900,"identityKey":"<64 hex>"|null,
//    "events":[{"id":"…","name":"…","startsAt":"<ISO UTC>"|null,"endsAt":"<ISO UTC>"|null,"privateIds":bool}]}
#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attendance::beacon {

struct BeaconEvent {
  std::string id;
  std::string name;
  std::optional<std::chrono::system_clock::time_point> startsAt;  // nullopt: open
  std::optional<std::chrono::system_clock::time_point> endsAt;
  bool privateIds = false;
};

struct BeaconSettings {
  support::BleNamespace ns;
  support::Uuid bleUuid;  // the static id
  beacon_id::RotationPeriod period;
  std::optional<beacon_id::IdentityKey> identityKey;
  std::vector<BeaconEvent> events;
};

// Settings files and answers are small; more than this is refused unread.
inline constexpr std::size_t kMaxSettingsBytes = 1024 * 1024;

// The JSON above; the message names the first field that is wrong.
[[nodiscard]] Outcome<BeaconSettings> parseSettings(std::string_view json);

// "2024-07-20T10:30:00Z" or with a fraction ("…:00.123Z"); UTC only.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parseIsoUtc(std::string_view text);

// Reads a settings file. It holds the identity key, so a file that others may read is refused
// while it carries one (like ssh with a private key); the message says how to fix it.
[[nodiscard]] Outcome<BeaconSettings> loadSettingsFile(const std::filesystem::path& path);
// Writes `json` (as received) to `path` with mode 0600, atomically (a temporary file renamed).
[[nodiscard]] Outcome<void> saveSettingsFile(const std::filesystem::path& path, std::string_view json);

}  // namespace attendance::beacon
