#pragma once

// Integrity of a request body on the way to the backend: the Content-Digest
// header of RFC 9530 ("sha-256=:<base64>:"), which attendance-sync sends with
// every batch. TCP's checksum misses some corruption and a faulty middlebox can
// change bytes; a changed batch must be refused, never stored as another record
// (docs/sync.md, "Corrupted and duplicated requests").
#include <string>
#include <string_view>

namespace attendance::core {

enum class DigestCheck {
  absent,     // no sha-256 member (no header, or only algorithms we do not check)
  match,      // the body is what the sender hashed
  mismatch,   // the body changed on the way
  malformed,  // a sha-256 member that is not a 32-byte base64 byte sequence
};

// `field` is the Content-Digest field value (several header lines joined with ",").
[[nodiscard]] DigestCheck checkContentDigest(std::string_view field, std::string_view body);

// The answer's JSON "reason" for a mismatch, which clients may act on (resend).
inline constexpr std::string_view kContentDigestMismatch = "content_digest_mismatch";

}  // namespace attendance::core
