#include "sync/checkpoint.hpp"
#include "sync/messages.hpp"
#include "sync/run.hpp"
#include "sync/summary.hpp"

#include <attendance/batch_client/endpoint.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/uuid.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <string>
#include <string_view>

// attendance-sync roster: the event's registered bleUuids for the scanner's --roster.
namespace attendance::sync {

namespace bc = attendance::batch_client;

namespace {

std::string pathSegment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

int runRoster(const RosterOptions& o, Environment& env) {
  if (o.eventId.empty() || o.eventId.size() > 256) {
    fail(env, "--event ID is required (at most 256 bytes)");
    return kExitUsage;
  }
  if (o.out.empty()) {
    fail(env, "--out FILE is required");
    return kExitUsage;
  }
  auto endpoint = endpointFor(o.backendUrl, o.insecureHttp, env);
  if (!endpoint) return kExitUsage;
  std::string error;
  auto key = readApiKeyFile(o.apiKeyFile, error);
  if (!key) {
    fail(env, error);
    return kExitUsage;
  }
  bc::ClientOptions co = clientOptionsFor(*endpoint, o.caFile, o.timeouts, o.maxAttempts);
  co.maxResponseBytes = 128u * 1024u * 1024u;
  bc::BatchClient client(co, env.clock, env.clientHooks);
  bc::Request request;
  request.method = "GET";
  request.path = "/api/events/" + pathSegment(o.eventId) + "/roster";
  request.bearerToken = *key;
  auto res = client.send(request);
  if (!res) {
    reportFailure(env, res.error());
    return exitCodeFor(res.error());
  }
  boost::system::error_code ec;
  const auto v = boost::json::parse(res->body, ec);
  const auto* root = ec ? nullptr : v.if_object();
  const auto* event = root != nullptr ? root->if_contains("eventId") : nullptr;
  const auto* ids = root != nullptr ? root->if_contains("bleUuids") : nullptr;
  if (root == nullptr || event == nullptr || !event->is_string() || ids == nullptr || !ids->is_array()) {
    fail(env, "unexpected roster answer from " + endpoint->origin() + " (expected {\"eventId\":..,\"bleUuids\":[..]})");
    return kExitNetwork;
  }
  if (event->as_string() != o.eventId) {
    fail(env, "the backend answered with the roster of another event (\"" + std::string(event->as_string()) + "\")");
    return kExitNetwork;
  }
  std::string file = "{\"eventId\":";
  support::appendJsonString(file, o.eventId);
  file += ",\"bleUuids\":[";
  std::size_t count = 0;
  for (const auto& id : ids->as_array()) {
    const auto uuid = id.is_string() ? support::Uuid::parse(id.as_string()) : std::nullopt;
    if (!uuid) {
      fail(env, "the roster contains an entry that is not a bleUuid; nothing was written");
      return kExitNetwork;
    }
    if (count++ != 0) file += ',';
    file += '"' + uuid->toString() + '"';
  }
  file += "]}\n";
  if (auto written = writeFileAtomically(o.out, file); !written) {
    fail(env, "cannot write " + o.out.string() + ": " + written.error().message());
    return kExitUsage;
  }
  env.out << "Roster of event " << o.eventId << ": " << groupDigits(count) << " registered participants written to "
          << o.out.string() << "\n";
  return kExitOk;
}

}  // namespace attendance::sync
