#include <attendance/core/identity_keys.hpp>
#include <attendance/core/report.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/log.hpp>

#include <sodium.h>

#include <cstring>

#include "db_util.hpp"

namespace attendance::core {
namespace {

constexpr std::string_view kAssociatedLabel = "attendance-identity-key-v1";
constexpr char kHex[] = "0123456789abcdef";

std::string toHexText(const std::uint8_t* data, std::size_t size) {
  std::string out(2 * size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0x0f];
  }
  return out;
}

template <std::size_t N>
bool fromHexText(std::string_view text, std::array<std::uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  std::size_t written = 0;
  return sodium_hex2bin(out.data(), N, text.data(), text.size(), nullptr, &written, nullptr) == 0 && written == N;
}

using AssociatedData = std::array<std::uint8_t, kAssociatedLabel.size() + 16 + 2>;

AssociatedData associatedData(const support::Uuid& userId, std::int16_t keyVersion) {
  AssociatedData ad{};
  std::memcpy(ad.data(), kAssociatedLabel.data(), kAssociatedLabel.size());
  std::memcpy(ad.data() + kAssociatedLabel.size(), userId.bytes.data(), userId.bytes.size());
  const auto v = static_cast<std::uint16_t>(keyVersion);
  ad[ad.size() - 2] = static_cast<std::uint8_t>(v >> 8);
  ad[ad.size() - 1] = static_cast<std::uint8_t>(v & 0xff);
  return ad;
}

void ensureSodium() {
  if (sodium_init() < 0) throw detail::CoreFailure{Errc::internal};
}

}  // namespace

ServerKey ServerKey::generate() {
  ensureSodium();
  ServerKey k;
  crypto_aead_xchacha20poly1305_ietf_keygen(k.bytes.data());
  return k;
}

std::optional<ServerKey> ServerKey::parseHex(std::string_view text) noexcept {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n')) text.remove_prefix(1);
  ServerKey k;
  if (!fromHexText(text, k.bytes)) return std::nullopt;
  return k;
}

std::string ServerKey::toHex() const { return toHexText(bytes.data(), bytes.size()); }

SealedIdentityKey sealIdentityKey(const ServerKey& server, const support::Uuid& userId,
                                  const beacon_id::IdentityKey& key, std::int16_t keyVersion) {
  static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24);
  static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES + beacon_id::kKeyBytes == 48);
  ensureSodium();
  SealedIdentityKey sealed;
  sealed.keyVersion = keyVersion;
  randombytes_buf(sealed.nonce.data(), sealed.nonce.size());
  const auto ad = associatedData(userId, keyVersion);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.ciphertext.data(), &written, key.bytes.data(), key.bytes.size(),
                                             ad.data(), ad.size(), nullptr, sealed.nonce.data(), server.bytes.data());
  return sealed;
}

std::optional<beacon_id::IdentityKey> openIdentityKey(const ServerKey& server, const support::Uuid& userId,
                                                      const SealedIdentityKey& sealed) {
  ensureSodium();
  const auto ad = associatedData(userId, sealed.keyVersion);
  beacon_id::IdentityKey key;
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(key.bytes.data(), &written, nullptr, sealed.ciphertext.data(),
                                                 sealed.ciphertext.size(), ad.data(), ad.size(), sealed.nonce.data(),
                                                 server.bytes.data()) != 0 ||
      written != key.bytes.size()) {
    return std::nullopt;
  }
  return key;
}

std::optional<SealedIdentityKey> parseSealedIdentityKey(std::int16_t keyVersion, std::string_view nonceHex,
                                                        std::string_view ciphertextHex) noexcept {
  SealedIdentityKey s;
  s.keyVersion = keyVersion;
  if (!fromHexText(nonceHex, s.nonce) || !fromHexText(ciphertextHex, s.ciphertext)) return std::nullopt;
  return s;
}

namespace {

// Reads the stored key of `userId` (nullopt: none yet) inside `tx`.
std::optional<SealedIdentityKey> readSealed(pqxx::transaction_base& tx, const std::string& userId) {
  const auto r = tx.exec_params(
      "SELECT key_version, encode(nonce, 'hex'), encode(ciphertext, 'hex') FROM participant_identity_keys "
      "WHERE user_id = $1",
      userId);
  if (r.empty()) return std::nullopt;
  auto s = parseSealedIdentityKey(r[0][0].as<std::int16_t>(), r[0][1].c_str(), r[0][2].c_str());
  if (!s) throw detail::CoreFailure{Errc::internal};
  return s;
}

beacon_id::IdentityKey keyInside(pqxx::transaction_base& tx, const ServerKey& server, const std::string& userId,
                                 std::chrono::system_clock::time_point now) {
  const auto uid = support::Uuid::parse(userId);
  if (!uid) throw detail::CoreFailure{Errc::user_not_found};
  auto sealed = readSealed(tx, userId);
  if (!sealed) {
    if (tx.exec_params("SELECT 1 FROM users WHERE id = $1", userId).empty())
      throw detail::CoreFailure{Errc::user_not_found};
    beacon_id::IdentityKey fresh;
    randombytes_buf(fresh.bytes.data(), fresh.bytes.size());
    const SealedIdentityKey s = sealIdentityKey(server, *uid, fresh);
    sodium_memzero(fresh.bytes.data(), fresh.bytes.size());
    // Two first requests at once: one row wins, both read it back.
    tx.exec_params(
        "INSERT INTO participant_identity_keys (user_id, key_version, nonce, ciphertext, created_at) "
        "VALUES ($1, $2, decode($3, 'hex'), decode($4, 'hex'), to_timestamp($5::bigint / 1000.0)) "
        "ON CONFLICT (user_id) DO NOTHING",
        userId, s.keyVersion, toHexText(s.nonce.data(), s.nonce.size()),
        toHexText(s.ciphertext.data(), s.ciphertext.size()), detail::toMs(now));
    sealed = readSealed(tx, userId);
    if (!sealed) throw detail::CoreFailure{Errc::internal};
  }
  auto key = openIdentityKey(server, *uid, *sealed);
  if (!key) {
    support::log::error("identity_key.open_failed", {{"userId", userId}});
    throw detail::CoreFailure{Errc::internal};
  }
  return *key;
}

}  // namespace

Result<beacon_id::IdentityKey> participantIdentityKey(ConnectionPool& pool, const ServerKey& server,
                                                      std::string_view userId,
                                                      std::chrono::system_clock::time_point now) {
  return detail::withConnection(pool, "participant_identity_key",
                                [&](pqxx::connection_base& conn) -> Result<beacon_id::IdentityKey> {
                                  pqxx::work tx{conn};
                                  auto key = keyInside(tx, server, std::string{userId}, now);
                                  tx.commit();
                                  return key;
                                });
}

Result<BeaconSettings> readBeaconSettings(ConnectionPool& pool, const ServerKey* server, std::string_view userIdIn,
                                          std::chrono::system_clock::time_point now, beacon_id::RotationPeriod period) {
  const std::string userId{userIdIn};
  return detail::withConnection(pool, "read_beacon_settings",
                                [&](pqxx::connection_base& conn) -> Result<BeaconSettings> {
                                  pqxx::work tx{conn};
                                  const auto u = tx.exec_params(
                                      "SELECT u.ble_uuid::text, encode(d.ble_namespace, 'hex') FROM users u CROSS JOIN "
                                      "deployment d WHERE u.id = $1",
                                      userId);
                                  if (u.empty()) return make_error_code(Errc::user_not_found);
                                  BeaconSettings s;
                                  const auto ble = support::Uuid::parse(u[0][0].as<std::string>());
                                  const auto ns = support::BleNamespace::parseHex(u[0][1].as<std::string>());
                                  if (!ble || !ns) return make_error_code(Errc::internal);
                                  s.bleUuid = *ble;
                                  s.bleNamespace = *ns;
                                  s.periodSeconds = period.seconds().count();
                                  const auto rows = tx.exec_params(
        "SELECT e.id, e.name, " ATTENDANCE_SQL_MS("e.starts_at") ", " ATTENDANCE_SQL_MS(
            "e.ends_at") ", e.private_ids FROM registrations r JOIN events e ON e.id = r.event_id "
                         "WHERE r.user_id = $1 ORDER BY e.starts_at NULLS LAST, e.id",
        userId);
                                  bool anyPrivate = false;
                                  for (const auto& row : rows) {
                                    BeaconEvent e;
                                    e.id = row[0].as<std::string>();
                                    e.name = row[1].as<std::string>();
                                    if (!row[2].is_null()) e.startsAt = detail::fromMs(row[2].as<std::int64_t>());
                                    if (!row[3].is_null()) e.endsAt = detail::fromMs(row[3].as<std::int64_t>());
                                    e.privateIds = row[4].as<bool>();
                                    anyPrivate = anyPrivate || e.privateIds;
                                    s.events.push_back(std::move(e));
                                  }
                                  if (anyPrivate) {
                                    if (server == nullptr) return make_error_code(Errc::beacon_key_missing);
                                    s.identityKey = keyInside(tx, *server, userId, now);
                                  }
                                  tx.commit();
                                  return s;
                                });
}

std::string renderBeaconSettingsJson(const BeaconSettings& s) {
  std::string out = "{\"namespace\":\"" + s.bleNamespace.toHex() + "\",\"bleUuid\":\"" + s.bleUuid.toString() +
                    "\",\"periodSeconds\":" + std::to_string(s.periodSeconds) + ",\"identityKey\":";
  out += s.identityKey ? "\"" + s.identityKey->toHex() + "\"" : std::string{"null"};
  out += ",\"events\":[";
  const auto time = [&out](const std::optional<std::chrono::system_clock::time_point>& t) {
    if (t) {
      support::appendJsonString(out, formatIsoUtc(*t));
    } else {
      out += "null";
    }
  };
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const auto& e = s.events[i];
    if (i > 0) out += ',';
    out += "{\"id\":";
    support::appendJsonString(out, e.id);
    out += ",\"name\":";
    support::appendJsonString(out, e.name);
    out += ",\"startsAt\":";
    time(e.startsAt);
    out += ",\"endsAt\":";
    time(e.endsAt);
    out += e.privateIds ? ",\"privateIds\":true}" : ",\"privateIds\":false}";
  }
  out += "]}";
  return out;
}

}  // namespace attendance::core
