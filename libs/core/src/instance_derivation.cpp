#include "instance_derivation.hpp"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose per-call context
// copies and provider dispatch cost more than the two compressions an instance needs; these are
// what lets the key's padded block be absorbed once and the state copied per window.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace attendance::core::detail {

void deriveInstances(const beacon_id::IdentityKey& key, const support::BleNamespace& ns, beacon_id::Window first,
                     std::span<beacon_id::Instance> out) noexcept {
  if (out.empty()) return;
  // HMAC-SHA-256 (RFC 2104) with a 32-byte key: inner = SHA-256((key ⊕ ipad) ‖ message),
  // mac = SHA-256((key ⊕ opad) ‖ inner). The padded key blocks are absorbed once per key.
  static_assert(beacon_id::kKeyBytes <= SHA256_CBLOCK);
  unsigned char pad[SHA256_CBLOCK];
  SHA256_CTX inner;
  SHA256_CTX outer;
  std::memset(pad, 0x36, sizeof pad);
  for (std::size_t i = 0; i < key.bytes.size(); ++i) pad[i] ^= key.bytes[i];
  SHA256_Init(&inner);
  SHA256_Update(&inner, pad, sizeof pad);
  std::memset(pad, 0x5c, sizeof pad);
  for (std::size_t i = 0; i < key.bytes.size(); ++i) pad[i] ^= key.bytes[i];
  SHA256_Init(&outer);
  SHA256_Update(&outer, pad, sizeof pad);
  OPENSSL_cleanse(pad, sizeof pad);

  unsigned char digest[SHA256_DIGEST_LENGTH];
  for (std::size_t i = 0; i < out.size(); ++i) {
    const beacon_id::Message m = beacon_id::derivationMessage(ns, first + i);
    SHA256_CTX ctx = inner;
    SHA256_Update(&ctx, m.data(), m.size());
    SHA256_Final(digest, &ctx);
    ctx = outer;
    SHA256_Update(&ctx, digest, sizeof digest);
    SHA256_Final(digest, &ctx);
    std::memcpy(out[i].data(), digest, out[i].size());
  }
  OPENSSL_cleanse(digest, sizeof digest);
  OPENSSL_cleanse(&inner, sizeof inner);
  OPENSSL_cleanse(&outer, sizeof outer);
}

}  // namespace attendance::core::detail
