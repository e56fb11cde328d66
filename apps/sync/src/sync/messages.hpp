#pragma once

#include "sync/run.hpp"

#include <attendance/batch_client/client.hpp>

#include <optional>
#include <string>
#include <string_view>

// How attendance-sync talks to the operator on stderr, shared by the files of the run.
namespace attendance::sync {

inline void fail(Environment& env, std::string_view message) {
  env.err << "attendance-sync: error: " << message << "\n";
}
inline void note(Environment& env, std::string_view message) { env.err << "attendance-sync: " << message << "\n"; }

// The exit code for a request that failed for good (docs/sync.md, "Exit codes").
[[nodiscard]] int exitCodeFor(const batch_client::Failure& failure);
// The failure, the server's reason, and what the operator should do about it.
void reportFailure(Environment& env, const batch_client::Failure& failure);
// The client options both commands use: where, how to verify TLS, timeouts, retries.
[[nodiscard]] batch_client::ClientOptions clientOptionsFor(const batch_client::Endpoint& endpoint,
                                                          const std::string& caFile,
                                                          const batch_client::Timeouts& timeouts,
                                                          unsigned maxAttempts);
// --backend parsed, or the reason on stderr and nothing.
[[nodiscard]] std::optional<batch_client::Endpoint> endpointFor(const std::string& url, bool insecure, Environment& env);

}  // namespace attendance::sync
