#pragma once

#include <attendance/batch_client/endpoint.hpp>
#include <attendance/batch_client/retry.hpp>
#include <attendance/support/clock.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attendance::batch_client {

struct Timeouts {
  // Resolve + TCP connect + TLS handshake of one connection.
  std::chrono::milliseconds connect{10'000};
  // Writing one request and reading its complete response.
  std::chrono::milliseconds request{60'000};
  // One call of BatchClient::send, all attempts and backoff sleeps included.
  std::chrono::milliseconds operation{300'000};
};

struct ClientOptions {
  Endpoint endpoint;
  // PEM file of trusted CAs; empty = the system trust store.
  std::string caFile;
  Timeouts timeouts;
  RetryPolicy retry;
  std::string userAgent = "attendance-batch-client/0.1";
  // Responses larger than this are refused (protects a small device from a hostile server).
  std::size_t maxResponseBytes = 64u * 1024u * 1024u;
};

// Test seam: where jitter comes from (default: a random_device-seeded generator).
// The client waits between attempts on its TimeSource (sleepFor), so a
// SimulatedTimeSource runs a retry schedule without waiting.
struct Hooks {
  std::function<double()> unitRandom;  // uniform in [0, 1)
};

struct Request {
  std::string method = "POST";  // "GET" or "POST"
  std::string path;             // appended to the endpoint's base path; starts with '/'
  std::string bearerToken;      // sent as "Authorization: Bearer <token>" when not empty
  std::string contentType = "application/json";
  std::string body;
  // Further header fields, e.g. {"Content-Digest", contentDigestSha256(body)}.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Response {
  unsigned status = 0;
  std::string body;
  unsigned attempts = 0;
};

enum class FailureKind {
  network,   // resolve/connect/read/write failure or timeout (after retries); safe to try again
  tls,       // certificate or hostname verification failed; not retried
  auth,      // 401 or 403: the key is wrong or revoked; not retried
  rejected,  // any other 4xx: the request itself is refused; not retried
  server,    // 5xx (or 429) still failing after retries, or an unusable response
};

[[nodiscard]] std::string_view toString(FailureKind kind) noexcept;

// Why one attempt failed: a transport error at a stage, or an HTTP answer.
struct AttemptError {
  std::string stage;    // "resolve", "connect", "TLS handshake", "send", "receive"; "answer" for a status
  std::string error;    // the transport error ("Connection refused", "end of stream", "timed out"), or empty
  unsigned status = 0;  // the HTTP status of an answer
  std::string body;     // its body, at most 1 KiB
};

struct Failure {
  FailureKind kind = FailureKind::network;
  unsigned status = 0;  // HTTP status when there was one
  std::string message;  // human-readable, names the endpoint and the cause
  std::string body;     // response body when there was one (e.g. {"error": "..."})
  unsigned attempts = 0;
  // Every failed attempt, oldest first: with retries the message names only the last
  // one, this tells the whole story (the server dropped the request, then refused).
  std::vector<AttemptError> history;
};

using SendResult = boost::system::result<Response, Failure>;

// boost::system::result<T, Failure>::value() throws this on a failure (ADL hook).
[[noreturn]] void throw_exception_from_error(const Failure& failure, const boost::source_location& loc);

// An HTTP/1.1 client for one endpoint, reusing one keep-alive connection across
// calls (reconnecting when the server closed it). Synchronous API; it runs its own
// io_context and C++20 coroutines inside. Not thread-safe: one caller at a time.
//
// send() retries on connection errors, timeouts, 429, 500, 502, 503, 504 with
// exponential backoff and full jitter, honouring Retry-After. Only use it for
// requests that are safe to repeat (idempotent), such as /batchCheckIn.
class BatchClient {
public:
  BatchClient(ClientOptions options, const support::TimeSource& clock, Hooks hooks = {});
  ~BatchClient();
  BatchClient(const BatchClient&) = delete;
  BatchClient& operator=(const BatchClient&) = delete;

  [[nodiscard]] SendResult send(const Request& request);

  // Connections opened so far (tests check keep-alive reuse with it).
  [[nodiscard]] std::size_t connectionsOpened() const noexcept;

  [[nodiscard]] const ClientOptions& options() const noexcept;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::batch_client
