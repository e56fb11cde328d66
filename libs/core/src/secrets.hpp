#pragma once

// Randomness, hashing and constant-time comparison (libsodium).
#include <attendance/core/users.hpp>
#include <attendance/support/uuid.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attendance::core::detail {

using Digest = std::array<std::uint8_t, 32>;

// `prefix` + 43 characters of base64url (32 random bytes).
std::string randomSecret(std::string_view prefix);
Digest sha256(std::string_view text);
// SHA-256 as 64 lowercase hex digits (admin session tokens are stored so).
std::string sha256Hex(std::string_view text);
bool constantTimeEqual(const Digest& a, const Digest& b) noexcept;
// Random version-4 UUID.
support::Uuid randomUuid();
// 6 random bytes: the instance part of a bleUuid (namespace ‖ instance, ADR 0027).
std::array<std::uint8_t, 6> randomBleInstance();
// Random lowercase hex digits.
std::string randomHex(std::size_t digits);

// Argon2id13 via crypto_pwhash_str_alg; nullopt if libsodium runs out of memory.
// Participants and admins both hash here, each with their own cost.
std::optional<std::string> hashPassword(std::string_view password, unsigned long long opsLimit, std::size_t memLimit);
std::optional<std::string> hashPassword(std::string_view password, const AuthConfig& auth);
bool verifyPassword(std::string_view storedHash, std::string_view password) noexcept;
// Spends the same effort as a real verification, for unknown emails.
void burnPasswordCheck(std::string_view password, unsigned long long opsLimit, std::size_t memLimit);
void burnPasswordCheck(std::string_view password, const AuthConfig& auth);

}  // namespace attendance::core::detail
