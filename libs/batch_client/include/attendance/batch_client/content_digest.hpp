#pragma once

#include <string>
#include <string_view>

namespace attendance::batch_client {

// The value of a Content-Digest header (RFC 9530) for `body`: "sha-256=:<base64>:".
// A backend that checks it refuses a body changed on the way (400, reason
// content_digest_mismatch) instead of storing what it was not sent (docs/sync.md).
[[nodiscard]] std::string contentDigestSha256(std::string_view body);

}  // namespace attendance::batch_client
