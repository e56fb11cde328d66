#include "sync/fake_backend.hpp"

#include <attendance/support/uuid.hpp>

#include <boost/json.hpp>

namespace attendance::testing {

namespace json = boost::json;

FakeBackend::FakeBackend(std::string apiKey, std::string scannerId, std::set<std::string> events)
    : apiKey_(std::move(apiKey)),
      scannerId_(std::move(scannerId)),
      events_(std::move(events)),
      server_([this](const ReceivedRequest& r) { return handle(r); }) {}

std::set<Row> FakeBackend::rows() const {
  std::lock_guard lock(mutex_);
  return rows_;
}

void FakeBackend::before(BeforeHook hook) {
  std::lock_guard lock(mutex_);
  before_ = std::move(hook);
}

void FakeBackend::after(AfterHook hook) {
  std::lock_guard lock(mutex_);
  after_ = std::move(hook);
}

void FakeBackend::setRoster(std::string eventId, std::vector<std::string> bleUuids, std::string bleNamespace,
                            bool privateIds) {
  std::lock_guard lock(mutex_);
  rosterEvent_ = std::move(eventId);
  roster_ = std::move(bleUuids);
  rosterNamespace_ = std::move(bleNamespace);
  rosterPrivateIds_ = privateIds;
}

namespace {
Reply error(unsigned status, std::string_view message) {
  Reply r;
  r.status = status;
  r.body = json::serialize(json::object{{"error", message}});
  return r;
}
}  // namespace

// As attendance-backend answers an event the key's scanner is not assigned to, or
// one that does not exist (docs/adr/0046-scanners-are-assigned-to-events.md).
Reply FakeBackend::notAssigned(const std::string& eventId) const {
  return error(403, "scanner " + scannerId_ + " is not assigned to event " + eventId +
                        "; assign it with: attendance-admin scanner assign --id " + scannerId_ + " --event " + eventId);
}

Reply FakeBackend::handle(const ReceivedRequest& r) {
  if (r.authorization != "Bearer " + apiKey_) return error(401, "unknown API key");
  if (r.method == "POST" && r.target == "/batchCheckIn") return batch(r);
  const std::string prefix = "/api/events/";
  if (r.method == "GET" && r.target.rfind(prefix, 0) == 0) {
    std::lock_guard lock(mutex_);
    const std::string expected = prefix + rosterEvent_ + "/roster";
    if (rosterEvent_.empty() || r.target != expected)
      return notAssigned(r.target.substr(prefix.size(), r.target.size() - prefix.size() - 7));
    json::array ids;
    for (const auto& id : roster_) ids.emplace_back(id);
    Reply ok;
    json::object body{{"eventId", rosterEvent_}, {"bleUuids", std::move(ids)}};
    if (!rosterNamespace_.empty()) body["namespace"] = rosterNamespace_;
    if (rosterPrivateIds_) body["privateIds"] = true;
    ok.body = json::serialize(body);
    return ok;
  }
  return error(404, "not found");
}

Reply FakeBackend::batch(const ReceivedRequest& r) {
  const std::size_t n = ++batchRequests_;
  BeforeHook before;
  AfterHook after;
  {
    std::lock_guard lock(mutex_);
    before = before_;
    after = after_;
  }
  if (before) {
    if (auto reply = before(n)) return *reply;
  }
  boost::system::error_code ec;
  const json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return error(400, "malformed JSON");
  const auto& o = v.as_object();
  const auto* event = o.if_contains("eventId");
  const auto* records = o.if_contains("records");
  if (event == nullptr || !event->is_string() || records == nullptr || !records->is_array()) {
    return error(400, "malformed envelope");
  }
  const std::string eventId(event->as_string());
  if (events_.count(eventId) == 0) return notAssigned(eventId);
  json::array rejected;
  std::size_t inserted = 0;
  std::size_t duplicates = 0;
  std::size_t index = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& rec : records->as_array()) {
      const auto& ro = rec.as_object();
      const auto reject = [&](std::string_view reason) {
        rejected.emplace_back(json::object{{"index", index}, {"reason", reason}});
      };
      if (ro.size() != 3) {
        reject("unexpected keys");
      } else if (!ro.at("bleUuid").is_string() || !support::Uuid::parse(ro.at("bleUuid").as_string())) {
        reject("malformed bleUuid");
      } else if (!ro.at("checkInTime").is_int64() || ro.at("checkInTime").as_int64() < 1'577'836'800'000) {
        reject("checkInTime out of range");
      } else if (!ro.at("scannerId").is_string() || ro.at("scannerId").as_string() != scannerId_) {
        reject("scannerId does not match the API key");
      } else {
        Row row{eventId, std::string(ro.at("bleUuid").as_string()), ro.at("checkInTime").as_int64(),
                std::string(ro.at("scannerId").as_string())};
        if (rows_.insert(row).second) {
          ++inserted;
        } else {
          ++duplicates;
        }
      }
      ++index;
    }
  }
  if (after) {
    if (auto reply = after(n)) return *reply;
  }
  Reply ok;
  ok.body = json::serialize(json::object{{"eventId", eventId},
                                         {"received", index},
                                         {"inserted", inserted},
                                         {"duplicates", duplicates},
                                         {"rejected", std::move(rejected)}});
  return ok;
}

}  // namespace attendance::testing
