#include "sync/messages.hpp"

#include "app_cli/build_info.hpp"
#include "sync/batch.hpp"
#include "sync/diagnosis.hpp"
#include "sync/summary.hpp"

#include <attendance/batch_client/endpoint.hpp>

namespace attendance::sync {

namespace bc = attendance::batch_client;

namespace {

int exitCodeFor(const bc::Failure& f) {
  switch (f.kind) {
    case bc::FailureKind::auth: return kExitAuth;
    case bc::FailureKind::tls: return kExitUsage;
    case bc::FailureKind::rejected: return f.status == 413 ? kExitUsage : kExitRejected;
    case bc::FailureKind::network:
    case bc::FailureKind::server: return kExitNetwork;
  }
  return kExitNetwork;
}

}  // namespace

RunError runErrorFor(const bc::Failure& f) {
  std::string message = f.message;
  if (!f.body.empty()) message += ": " + serverErrorText(f.body);
  switch (f.kind) {
    case bc::FailureKind::auth:
      if (f.status == 403) {
        // The key is fine; the backend names the attendance-admin command in its message.
        message +=
            "\n  the scanner is not assigned to this event (or there is no such event): an organizer runs the "
            "attendance-admin command above, then run the same command again (nothing was lost)";
      } else {
        message += "\n  the backend refused the API key (wrong, revoked, or for another scanner); check --api-key-file";
      }
      break;
    case bc::FailureKind::tls:
      // A plain-HTTP server behind an https:// URL is a URL mistake, not a certificate one.
      message += f.message.find("speaks plain HTTP") != std::string::npos
                     ? "\n  nothing was sent"
                     : "\n  fix the URL or --ca-file; nothing was sent";
      break;
    case bc::FailureKind::rejected:
      if (f.status == 413) message += "\n  the batch is larger than the backend accepts; use a smaller --batch-size";
      break;
    case bc::FailureKind::network:
    case bc::FailureKind::server:
      if (const auto what = describeAttempts(f); !what.empty()) message += "\n  what happened: " + what;
      message +=
          "\n  nothing is lost: the backend stores a batch whole or not at all, and acknowledged batches are "
          "recorded in the checkpoint; run the same command again";
      break;
  }
  return RunError{exitCodeFor(f), std::move(message)};
}

bc::ClientOptions clientOptionsFor(const bc::Endpoint& endpoint, const std::string& caFile,
                                   const bc::Timeouts& timeouts, unsigned maxAttempts) {
  bc::ClientOptions co;
  co.endpoint = endpoint;
  co.caFile = caFile;
  co.timeouts = timeouts;
  co.retry.maxAttempts = maxAttempts;
  co.userAgent = "attendance-sync/" + std::string{app_cli::projectVersion()};
  return co;
}

RunResult<bc::Endpoint> endpointFor(const std::string& url, bool insecure) {
  auto ep = bc::parseEndpoint(url, insecure);
  if (!ep) return RunError{kExitUsage, ep.error().message};
  return *ep;
}

}  // namespace attendance::sync
