#include "secrets.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace attendance::core::detail {
namespace {

void ensureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
  });
}

}  // namespace

std::string randomSecret(std::string_view prefix) {
  ensureSodium();
  std::array<unsigned char, 32> raw{};
  randombytes_buf(raw.data(), raw.size());
  std::array<char, 64> encoded{};
  sodium_bin2base64(encoded.data(), encoded.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw.data(), raw.size());
  std::string out{prefix};
  out += encoded.data();
  return out;
}

Digest sha256(std::string_view text) {
  ensureSodium();
  Digest d{};
  crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return d;
}

std::string sha256Hex(std::string_view text) {
  const Digest d = sha256(text);
  std::array<char, 2 * std::tuple_size_v<Digest> + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), d.data(), d.size());
  return std::string{hex.data()};
}

bool constantTimeEqual(const Digest& a, const Digest& b) noexcept {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

support::Uuid randomUuid() {
  ensureSodium();
  support::Uuid u;
  randombytes_buf(u.bytes.data(), u.bytes.size());
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0FU) | 0x40U);  // version 4
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3FU) | 0x80U);  // RFC 4122 variant
  return u;
}

std::array<std::uint8_t, 6> randomBleInstance() {
  ensureSodium();
  std::array<std::uint8_t, 6> out{};
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string randomHex(std::size_t digits) {
  ensureSodium();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (auto& c : out) c = kHex[randombytes_uniform(16)];
  return out;
}

std::optional<std::string> hashPassword(std::string_view password, unsigned long long opsLimit, std::size_t memLimit) {
  ensureSodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), opsLimit, memLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string{out.data()};
}

std::optional<std::string> hashPassword(std::string_view password, const AuthConfig& auth) {
  return hashPassword(password, auth.passwordOpsLimit, auth.passwordMemLimit);
}

bool verifyPassword(std::string_view storedHash, std::string_view password) noexcept {
  if (storedHash.empty() || storedHash.size() >= crypto_pwhash_STRBYTES) return false;
  std::array<char, crypto_pwhash_STRBYTES> stored{};
  std::copy(storedHash.begin(), storedHash.end(), stored.begin());
  return crypto_pwhash_str_verify(stored.data(), password.data(), password.size()) == 0;
}

void burnPasswordCheck(std::string_view password, unsigned long long opsLimit, std::size_t memLimit) {
  // Hashing costs what verifying costs: an unknown email answers no faster.
  (void)hashPassword(password, opsLimit, memLimit);
}

void burnPasswordCheck(std::string_view password, const AuthConfig& auth) {
  burnPasswordCheck(password, auth.passwordOpsLimit, auth.passwordMemLimit);
}

}  // namespace attendance::core::detail
