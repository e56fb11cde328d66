#pragma once

#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/core/database.hpp>
#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Participants' identity keys for private rotating ids (issue 11 §2, ADR 0029,
// docs/beacon-spec.md) and what GET /api/me/beacon gives a broadcaster.
namespace attendance::core {

// The server key: 32 bytes that encrypt every identity key at rest (XChaCha20-Poly1305).
// It lives in a file outside the database (attendance-backend beacon-key generate), so a
// dump of the database alone reveals no identity key.
struct ServerKey {
  static constexpr std::size_t kBytes = 32;
  std::array<std::uint8_t, kBytes> bytes{};

  // 32 fresh random bytes (libsodium).
  [[nodiscard]] static ServerKey generate();
  // Exactly 64 hex digits, either case, surrounding whitespace ignored (the key file's text).
  [[nodiscard]] static std::optional<ServerKey> parseHex(std::string_view text) noexcept;
  // 64 lowercase hex digits.
  [[nodiscard]] std::string toHex() const;
};

// The identity key as stored: nonce and ciphertext (key + tag), associated data
// "attendance-identity-key-v1" ‖ user id (16 bytes) ‖ key version (2 bytes big-endian).
struct SealedIdentityKey {
  std::array<std::uint8_t, 24> nonce{};
  std::array<std::uint8_t, 48> ciphertext{};
  std::int16_t keyVersion = 1;
};
// From the columns' hex text (encode(nonce, 'hex'), encode(ciphertext, 'hex')); nullopt when malformed.
[[nodiscard]] std::optional<SealedIdentityKey> parseSealedIdentityKey(std::int16_t keyVersion,
                                                                      std::string_view nonceHex,
                                                                      std::string_view ciphertextHex) noexcept;
// Pure apart from the random nonce.
[[nodiscard]] SealedIdentityKey sealIdentityKey(const ServerKey& server, const support::Uuid& userId,
                                                const beacon_id::IdentityKey& key, std::int16_t keyVersion = 1);
// nullopt when the ciphertext does not open under this server key for this user and version
// (another row's key, a wrong server key, a changed byte).
[[nodiscard]] std::optional<beacon_id::IdentityKey> openIdentityKey(const ServerKey& server,
                                                                    const support::Uuid& userId,
                                                                    const SealedIdentityKey& sealed);

// The participant's identity key, generated (32 random bytes) and stored encrypted on first
// need. Errc::user_not_found; Errc::internal when the stored key does not open under `server`
// (the server key file was replaced).
[[nodiscard]] Result<beacon_id::IdentityKey> participantIdentityKey(ConnectionPool& pool, const ServerKey& server,
                                                                    std::string_view userId,
                                                                    std::chrono::system_clock::time_point now);

// GET /api/me/beacon: what a participant's broadcaster needs.
struct BeaconEvent {
  std::string id;
  std::string name;
  std::optional<std::chrono::system_clock::time_point> startsAt;
  std::optional<std::chrono::system_clock::time_point> endsAt;
  bool privateIds = false;
};
struct BeaconSettings {
  support::BleNamespace bleNamespace;
  support::Uuid bleUuid;  // the participant's static bleUuid
  std::int64_t periodSeconds = 900;
  std::optional<beacon_id::IdentityKey> identityKey;  // iff an event has privateIds
  std::vector<BeaconEvent> events;                    // the participant's registered events, soonest first
};

// Errc::user_not_found. `server` may be null while no registered event has private ids;
// otherwise Errc::beacon_key_missing. `period` is the backend's rotation period (serve
// --private-id-period), the one its resolver uses.
[[nodiscard]] Result<BeaconSettings> readBeaconSettings(ConnectionPool& pool, const ServerKey* server,
                                                        std::string_view userId,
                                                        std::chrono::system_clock::time_point now,
                                                        beacon_id::RotationPeriod period = {});

// {"namespace":"<20 hex>","bleUuid":"<uuid>","periodSeconds":900,"identityKey":"<64 hex>"|null,
//  "events":[{"id":..,"name":..,"startsAt":..,"endsAt":..,"privateIds":true|false}]}
[[nodiscard]] std::string renderBeaconSettingsJson(const BeaconSettings& settings);

}  // namespace attendance::core
