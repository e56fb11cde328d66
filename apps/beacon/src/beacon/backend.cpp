#include "beacon/backend.hpp"

#include "beacon/cli.hpp"

#include <attendance/batch_client/client.hpp>
#include <attendance/batch_client/endpoint.hpp>
#include <attendance/support/json_text.hpp>

#include <boost/json/parse.hpp>

namespace attendance::beacon {

namespace bc = attendance::batch_client;

namespace {

Fetched failed(const bc::Failure& f, const std::string& what) {
  switch (f.kind) {
    case bc::FailureKind::auth: return {kExitSignInRefused, {}, "sign-in refused: wrong email or password"};
    case bc::FailureKind::tls: return {kExitUsage, {}, what + ": " + f.message};
    case bc::FailureKind::rejected:
      if (f.status == 404) {
        return {kExitBackend, {}, what + ": the backend has no such endpoint (HTTP 404); is it older than this tool?"};
      }
      return {kExitSignInRefused, {}, what + ": " + f.message};
    default: return {kExitBackend, {}, what + ": " + f.message};
  }
}

}  // namespace

Fetched fetchSettings(const std::string& backendUrl, const std::string& caFile, const std::string& email,
                      const std::string& password, const support::TimeSource& clock) {
  auto endpoint = bc::parseEndpoint(backendUrl, /*allowInsecureHttp=*/false);
  if (!endpoint) {
    return {kExitUsage, {}, endpoint.error().message};
  }
  bc::ClientOptions options;
  options.endpoint = *endpoint;
  options.caFile = caFile;
  options.userAgent = "attendance-beacon/0.1";
  options.timeouts = {std::chrono::seconds{10}, std::chrono::seconds{20}, std::chrono::seconds{60}};
  options.retry.maxAttempts = 3;
  options.maxResponseBytes = 1024 * 1024;
  bc::BatchClient client{options, clock};

  bc::Request signIn;
  signIn.path = "/api/sessions";
  signIn.body = "{\"email\":";
  support::appendJsonString(signIn.body, email);
  signIn.body += ",\"password\":";
  support::appendJsonString(signIn.body, password);
  signIn.body += "}";
  auto session = client.send(signIn);
  if (!session) {
    return failed(session.error(), "sign-in");
  }
  boost::system::error_code ec;
  const auto answer = boost::json::parse(session->body, ec);
  const auto* token = !ec && answer.is_object() ? answer.get_object().if_contains("token") : nullptr;
  if (token == nullptr || !token->is_string() || token->get_string().empty()) {
    return {kExitBackend, {}, "sign-in: the backend's answer carries no token"};
  }

  bc::Request beacon;
  beacon.method = "GET";
  beacon.path = "/api/me/beacon";
  beacon.bearerToken = std::string{token->get_string()};
  auto settings = client.send(beacon);
  if (!settings) {
    return failed(settings.error(), "GET /api/me/beacon");
  }
  return {kExitOk, std::move(settings->body), {}};
}

}  // namespace attendance::beacon
