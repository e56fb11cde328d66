#pragma once
// A Server on 127.0.0.1:0 running on its own thread for the length of a test;
// stopped (graceful drain) and joined on destruction.

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <attendance/http_server/server.hpp>

namespace attendance::testing {

namespace hs = attendance::http_server;

class RunningServer {
public:
  RunningServer(hs::ServerConfig cfg, hs::Router router) {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    server_ = std::make_unique<hs::Server>(std::move(cfg), std::move(router), metrics);
    port = server_->listen().port();
    thread_ = std::thread([this] {
      server_->run();
      finished_.set_value();
    });
    finishedFuture_ = finished_.get_future();
  }
  ~RunningServer() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  hs::Server& server() { return *server_; }
  // True when run() returned within the deadline.
  bool waitStopped(std::chrono::milliseconds deadline) {
    return finishedFuture_.wait_for(deadline) == std::future_status::ready;
  }

  hs::MetricsRegistry metrics;
  std::uint16_t port = 0;

private:
  std::unique_ptr<hs::Server> server_;
  std::promise<void> finished_;
  std::future<void> finishedFuture_;
  std::thread thread_;
};

}  // namespace attendance::testing
