#include "sync/diagnosis.hpp"

#include "sync/batch.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <vector>

namespace attendance::sync {

namespace json = boost::json;

namespace {

std::string times(std::size_t n) { return n == 1 ? std::string("once") : std::to_string(n) + " times"; }

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

std::string describeAttempts(const batch_client::Failure& failure) {
  std::size_t dropped = 0;   // the request went out, the connection closed without an answer
  std::size_t refused = 0;   // nothing listening
  std::size_t timedOut = 0;  // no answer in time (or no connection in time)
  std::size_t otherNet = 0;  // resolve failures, resets while connecting...
  std::size_t databaseDown = 0;
  std::vector<unsigned> statuses;
  bool droppedBeforeRefused = false;
  for (const auto& a : failure.history) {
    if (a.status != 0) {
      const std::string reason = serverErrorText(a.body);
      if (a.status == 503 && contains(reason, "database")) {
        ++databaseDown;
      } else {
        statuses.push_back(a.status);
      }
    } else if (a.error == "timed out") {
      ++timedOut;
    } else if (a.stage == "send" || a.stage == "receive") {
      ++dropped;
    } else if (a.stage == "connect" && contains(a.error, "refused")) {
      ++refused;
      if (dropped > 0) droppedBeforeRefused = true;
    } else {
      ++otherNet;
    }
  }
  if (failure.history.size() < 2 && !(databaseDown > 0)) return {};
  std::vector<std::string> parts;
  if (droppedBeforeRefused) {
    parts.push_back("the backend went away while handling the request: it closed the connection without an answer " +
                    times(dropped) + ", then refused connections " + times(refused) +
                    " (it stopped, crashed or is restarting)");
  } else {
    if (dropped > 0) parts.push_back("the backend closed the connection without an answer " + times(dropped));
    if (refused > 0) {
      parts.push_back(refused == failure.history.size()
                          ? "nothing accepted the connection (" + times(refused) +
                                "): the backend is not running at that address, or --backend names the wrong port"
                          : "connections were refused " + times(refused));
    }
  }
  if (databaseDown > 0) {
    parts.push_back("the backend is running but its database is unavailable (HTTP 503 " + times(databaseDown) + ")");
  }
  if (timedOut > 0) parts.push_back("no answer in time " + times(timedOut) + " (--request-timeout, --connect-timeout)");
  if (!statuses.empty()) {
    std::sort(statuses.begin(), statuses.end());
    std::string list;
    for (std::size_t i = 0; i < statuses.size(); ++i) {
      if (i > 0 && statuses[i] == statuses[i - 1]) continue;
      if (!list.empty()) list += ", ";
      list += std::to_string(statuses[i]);
    }
    parts.push_back("the backend answered HTTP " + list + " " + times(statuses.size()));
  }
  if (otherNet > 0) parts.push_back("other network errors " + times(otherNet));
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

bool isContentDigestMismatch(const batch_client::Failure& failure) {
  if (failure.status != 400) return false;
  boost::system::error_code ec;
  const json::value v = json::parse(failure.body, ec);
  if (ec || !v.is_object()) return false;
  const auto* reason = v.as_object().if_contains("reason");
  return reason != nullptr && reason->is_string() && reason->as_string() == "content_digest_mismatch";
}

}  // namespace attendance::sync
