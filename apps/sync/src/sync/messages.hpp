#pragma once

#include "sync/run.hpp"
#include "sync/run_error.hpp"

#include "app_cli/cli.hpp"

#include <attendance/batch_client/client.hpp>

#include <string>
#include <string_view>

// How attendance-sync talks to the operator on stderr, shared by the files of the run.
namespace attendance::sync {

inline constexpr std::string_view kTool = "attendance-sync";

// "attendance-sync: error: <message>" (app_cli, the format every tool shares).
inline void fail(Environment& env, std::string_view message) { env.err << app_cli::errorLine(kTool, message) << "\n"; }
inline void note(Environment& env, std::string_view message) { env.err << kTool << ": " << message << "\n"; }

// A request that failed for good: its exit code (docs/sync.md, "Exit codes"), and the
// failure, the server's reason and what the operator should do about it.
[[nodiscard]] RunError runErrorFor(const batch_client::Failure& failure);
// The client options both commands use: where, how to verify TLS, timeouts, retries.
[[nodiscard]] batch_client::ClientOptions clientOptionsFor(const batch_client::Endpoint& endpoint,
                                                           const std::string& caFile,
                                                           const batch_client::Timeouts& timeouts,
                                                           unsigned maxAttempts);
// --backend parsed (a bad URL is a usage error).
[[nodiscard]] RunResult<batch_client::Endpoint> endpointFor(const std::string& url, bool insecure);

}  // namespace attendance::sync
