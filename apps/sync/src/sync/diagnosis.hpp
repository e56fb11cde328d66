#pragma once

#include <attendance/batch_client/client.hpp>

#include <string>

// What a request's failed attempts say happened, for the operator. Pure (no I/O).
namespace attendance::sync {

// One sentence from the attempts' history: the backend went away mid-request and
// then refused connections, is not running, answered 503 because its database is
// unavailable, did not answer in time... Empty when the history says nothing more
// than the error line does (a single attempt, or no history).
[[nodiscard]] std::string describeAttempts(const batch_client::Failure& failure);

// The backend refused the body because it did not match its Content-Digest:
// changed on the way, so sending the same bytes again is the cure.
[[nodiscard]] bool isContentDigestMismatch(const batch_client::Failure& failure);

}  // namespace attendance::sync
