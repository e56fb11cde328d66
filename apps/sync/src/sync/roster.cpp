#include "sync/checkpoint.hpp"
#include "sync/messages.hpp"
#include "sync/run.hpp"
#include "sync/summary.hpp"

#include <attendance/batch_client/endpoint.hpp>
#include <attendance/support/ble_namespace.hpp>
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

struct Fetched {
  std::size_t count = 0;    // bleUuids written
  bool privateIds = false;  // a private-ids event's roster: the namespace, no bleUuids
};

// Fetches, checks and writes the roster.
RunResult<Fetched> fetchRoster(const RosterOptions& o, Environment& env) {
  const auto usage = [](std::string message) { return RunError{kExitUsage, std::move(message)}; };
  if (o.eventId.empty() || o.eventId.size() > 256) return usage("--event ID is required (at most 256 bytes)");
  if (o.out.empty()) return usage("--out FILE is required");
  auto endpoint = endpointFor(o.backendUrl, o.insecureHttp);
  if (!endpoint) return endpoint.error();
  auto key = readApiKeyFile(o.apiKeyFile);
  if (!key) return key.error();
  bc::ClientOptions co = clientOptionsFor(*endpoint, o.caFile, o.timeouts, o.maxAttempts);
  co.maxResponseBytes = 128u * 1024u * 1024u;
  bc::BatchClient client(co, env.clock, env.clientHooks);
  bc::Request request;
  request.method = "GET";
  request.path = "/api/events/" + pathSegment(o.eventId) + "/roster";
  request.bearerToken = *key;
  auto res = client.send(request);
  if (!res) return runErrorFor(res.error());
  const auto unusable = [](std::string message) { return RunError{kExitNetwork, std::move(message)}; };
  boost::system::error_code ec;
  const auto v = boost::json::parse(res->body, ec);
  const auto* root = ec ? nullptr : v.if_object();
  const auto* event = root != nullptr ? root->if_contains("eventId") : nullptr;
  const auto* ids = root != nullptr ? root->if_contains("bleUuids") : nullptr;
  if (root == nullptr || event == nullptr || !event->is_string() || ids == nullptr || !ids->is_array()) {
    return unusable("unexpected roster answer from " + endpoint->origin() +
                    " (expected {\"eventId\":..,\"bleUuids\":[..]})");
  }
  if (event->as_string() != o.eventId) {
    return unusable("the backend answered with the roster of another event (\"" + std::string(event->as_string()) +
                    "\")");
  }
  std::string file = "{\"eventId\":";
  support::appendJsonString(file, o.eventId);
  // The deployment's namespace (issue 11, ADR 0027); a backend before it sends none.
  if (const auto* ns = root->if_contains("namespace")) {
    const auto parsed = ns->is_string() ? support::BleNamespace::parseHex(ns->as_string()) : std::nullopt;
    if (!parsed) return unusable("the roster's namespace is not 20 hex digits; nothing was written");
    file += ",\"namespace\":\"" + parsed->toHex() + "\"";
  }
  // A private-ids event's roster (ADR 0078): the namespace and no bleUuids, kept as such.
  bool privateIds = false;
  if (const auto* priv = root->if_contains("privateIds")) {
    if (!priv->is_bool()) return unusable("the roster's privateIds is not true or false; nothing was written");
    privateIds = priv->as_bool();
    if (privateIds && (root->if_contains("namespace") == nullptr || !ids->as_array().empty())) {
      return unusable("a private-ids roster must carry the namespace and no bleUuids; nothing was written");
    }
    if (privateIds) file += ",\"privateIds\":true";
  }
  file += ",\"bleUuids\":[";
  std::size_t count = 0;
  for (const auto& id : ids->as_array()) {
    const auto uuid = id.is_string() ? support::Uuid::parse(id.as_string()) : std::nullopt;
    if (!uuid) return unusable("the roster contains an entry that is not a bleUuid; nothing was written");
    if (count++ != 0) file += ',';
    file += '"' + uuid->toString() + '"';
  }
  file += "]}\n";
  if (auto written = writeFileAtomically(o.out, file); !written) {
    return usage("cannot write " + o.out.string() + ": " + written.error().message());
  }
  return Fetched{count, privateIds};
}

}  // namespace

int runRoster(const RosterOptions& o, Environment& env) {
  auto count = fetchRoster(o, env);
  if (!count) {
    fail(env, count.error().message);
    return count.error().exitCode;
  }
  if (count->privateIds) {
    env.out << "Roster of event " << o.eventId
            << ": private ids, so no bleUuids: the scanner logs every id in the deployment's namespace; written to "
            << o.out.string() << "\n";
  } else {
    env.out << "Roster of event " << o.eventId << ": " << groupDigits(count->count)
            << " registered participants written to " << o.out.string() << "\n";
  }
  return kExitOk;
}

}  // namespace attendance::sync
