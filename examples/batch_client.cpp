// attendance::batch_client: the HTTP(S) client attendance-sync uploads with: one keep-alive connection,
// timeouts, retries with backoff and jitter (honouring Retry-After), verified TLS, and failures as
// values that say what to do. Here it meets a port where nothing listens, and says so.
#include <cstdio>

#include <attendance/batch_client/client.hpp>
#include <attendance/batch_client/endpoint.hpp>
#include <attendance/support/clock.hpp>

int main() {
  namespace bc = attendance::batch_client;
  // Plain http only to a loopback host unless allowed: a key must not cross a network in clear text.
  if (bc::parseEndpoint("http://backend.example.org", false)) return 1;
  auto endpoint = bc::parseEndpoint("http://127.0.0.1:9", false);  // the discard port: nothing listens
  if (!endpoint) return 2;

  bc::ClientOptions options;
  options.endpoint = *endpoint;
  options.retry.maxAttempts = 3;
  options.timeouts.connect = std::chrono::seconds{2};
  // The client waits between attempts on this clock; a simulated one makes the retries instant.
  attendance::support::SimulatedTimeSource clock;
  bc::BatchClient client{options, clock};

  bc::Request request;
  request.path = "/batchCheckIn";
  request.bearerToken = "the scanner's API key";
  request.body = R"({"eventId":"ev-1","records":[]})";
  const auto sent = client.send(request);
  if (sent) return 3;
  const bc::Failure& failure = sent.error();
  std::printf("%s after %u attempts: %s\n", std::string(bc::toString(failure.kind)).c_str(), failure.attempts,
              failure.message.c_str());
  return failure.kind == bc::FailureKind::network && failure.attempts == 3 ? 0 : 4;
}
