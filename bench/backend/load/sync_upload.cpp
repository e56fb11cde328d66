#include "sync_upload.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

namespace attendance::bench {

bool UploadStats::onlyBackpressure() const {
  if (networkErrors != 0 || gaveUp != 0) return false;
  for (const auto& [status, n] : answers) {
    if (status != 200 && status != 429 && status != 503) return false;
  }
  return true;
}

void UploadStats::merge(const UploadStats& other) {
  answered200.merge(other.answered200);
  sent200.merge(other.sent200);
  backpressure.merge(other.backpressure);
  batches.merge(other.batches);
  for (const auto& [status, n] : other.answers) answers[status] += n;
  networkErrors += other.networkErrors;
  reconnects += other.reconnects;
  gaveUp += other.gaveUp;
  for (const auto& p : other.problems) problem(p);
}

namespace {

std::optional<BatchAck> parseAck(const std::string& body) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  const auto* received = o.if_contains("received");
  const auto* inserted = o.if_contains("inserted");
  const auto* duplicates = o.if_contains("duplicates");
  const auto* rejected = o.if_contains("rejected");
  if (received == nullptr || inserted == nullptr || duplicates == nullptr || rejected == nullptr ||
      !rejected->is_array()) {
    return std::nullopt;
  }
  return BatchAck{received->to_number<std::int64_t>(), inserted->to_number<std::int64_t>(),
                  duplicates->to_number<std::int64_t>(), static_cast<std::int64_t>(rejected->as_array().size())};
}

}  // namespace

asio::awaitable<std::optional<BatchAck>> uploadBatch(Connection& c, const Request& request,
                                                     const batch_client::RetryPolicy& policy,
                                                     std::chrono::milliseconds timeout, std::mt19937& random,
                                                     UploadStats& stats) {
  const auto started = SteadyClock::now();
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  for (unsigned attemptNo = 1;; ++attemptNo) {
    const Reply reply = co_await c.exchange(request, timeout);
    if (reply.reconnected) ++stats.reconnects;
    std::optional<std::chrono::milliseconds> retryAfter;
    if (reply.status == 0) {
      ++stats.networkErrors;
      stats.problem(fmt::format("no answer: {}", reply.error.message()));
    } else {
      ++stats.answers[reply.status];
      if (reply.status == 200) {
        stats.answered200.add(reply.elapsed);
        stats.sent200.add(reply.sent);
        auto ack = parseAck(reply.body);
        if (!ack) {
          stats.problem("a 200 whose body is not an ingest result: " + reply.body.substr(0, 200));
          co_return std::nullopt;
        }
        stats.batches.add(SteadyClock::now() - started);
        co_return ack;
      }
      if (reply.status == 429 || reply.status == 503) stats.backpressure.add(reply.elapsed);
      if (!batch_client::isRetryableStatus(reply.status)) {
        stats.problem(fmt::format("{} (not retried): {}", reply.status, reply.body.substr(0, 200)));
        co_return std::nullopt;
      }
      if (reply.status != 429 && reply.status != 503) {
        stats.problem(fmt::format("{} (retried): {}", reply.status, reply.body.substr(0, 200)));
      }
      if (!reply.retryAfter.empty()) {
        retryAfter = batch_client::parseRetryAfter(reply.retryAfter, std::chrono::system_clock::now());
      }
    }
    if (attemptNo >= policy.maxAttempts) {
      ++stats.gaveUp;
      stats.problem(fmt::format("gave up after {} attempts", attemptNo));
      co_return std::nullopt;
    }
    auto delay = batch_client::backoffDelay(policy, attemptNo, unit(random));
    if (retryAfter) delay = std::max(delay, *retryAfter);
    asio::steady_timer wait{co_await asio::this_coro::executor, delay};
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace attendance::bench
