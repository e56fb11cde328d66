#include <attendance/batch_client/content_digest.hpp>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace attendance::batch_client {

std::string contentDigestSha256(std::string_view body) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  unsigned char encoded[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, SHA256_DIGEST_LENGTH);
  return "sha-256=:" + std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n)) + ":";
}

}  // namespace attendance::batch_client
