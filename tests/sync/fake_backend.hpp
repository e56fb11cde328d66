#pragma once

// An in-test stand-in for attendance-backend's /batchCheckIn and roster routes,
// over real loopback sockets (batch_client/test_server.hpp). It stores rows by the
// natural key (event, bleUuid, checkInTime, scannerId) like the real one, so tests
// can assert "exactly once" after faults.
#include "batch_client/test_server.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace attendance::testing {

using Row = std::tuple<std::string, std::string, std::int64_t, std::string>;

class FakeBackend {
public:
  // Called for every /batchCheckIn request before it is processed; returning a
  // Reply answers with it instead (nothing stored). `n` counts requests from 1.
  using BeforeHook = std::function<std::optional<Reply>(std::size_t n)>;
  // Called after the batch was stored; may replace the answer (e.g. drop the
  // connection after the commit).
  using AfterHook = std::function<std::optional<Reply>(std::size_t n)>;

  // `events`: the ones the scanner is assigned to; any other is 403, as the backend answers.
  FakeBackend(std::string apiKey = "good-key", std::string scannerId = "S1",
              std::set<std::string> events = {"ev1", "ev2"});

  [[nodiscard]] std::string url() const { return server_.url(); }
  [[nodiscard]] std::set<Row> rows() const;
  [[nodiscard]] std::size_t batchRequests() const { return batchRequests_.load(); }
  [[nodiscard]] std::vector<ReceivedRequest> requests() const { return server_.requests(); }

  void before(BeforeHook hook);
  void after(AfterHook hook);
  // An empty namespace answers as a backend before issue 11 (no "namespace" key).
  void setRoster(std::string eventId, std::vector<std::string> bleUuids, std::string bleNamespace = {},
                 bool privateIds = false);

private:
  Reply handle(const ReceivedRequest& r);
  Reply batch(const ReceivedRequest& r);
  Reply notAssigned(const std::string& eventId) const;

  std::string apiKey_;
  std::string scannerId_;
  std::set<std::string> events_;
  mutable std::mutex mutex_;
  std::set<Row> rows_;
  BeforeHook before_;
  AfterHook after_;
  std::string rosterEvent_;
  std::vector<std::string> roster_;
  std::string rosterNamespace_;
  bool rosterPrivateIds_ = false;
  std::atomic<std::size_t> batchRequests_{0};
  TestServer server_;  // last: its threads use the members above
};

}  // namespace attendance::testing
