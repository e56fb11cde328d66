#include "admin/web_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <pqxx/pqxx>
#include <unistd.h>

#include <attendance/core/migrations.hpp>

#include <attendance/core/admin_accounts.hpp>
#include "web/html.hpp"

namespace attendance::admin_web::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

TestServer::TestServer(const TestDatabase& db, WebOptions options) {
  core::DatabaseConfig cfg;
  cfg.conninfo = db.conninfo();
  cfg.poolSize = 4;
  cfg.acquireTimeout = std::chrono::milliseconds{5000};
  pool_ = std::make_unique<core::ConnectionPool>(cfg);
  if (auto r = core::migrate(*pool_); !r) throw std::runtime_error("migrate: " + r.error().message());
  blocking_ = std::make_unique<http_server::BlockingPool>(4, 64);
  app_ = std::make_unique<WebApp>(*pool_, *blocking_, clock, std::move(options), &metrics_);
  http_server::Router router;
  app_->addRoutes(router);
  http_server::ServerConfig sc;
  sc.accessLog = false;
  sc.ioThreads = 2;
  server_ = std::make_unique<http_server::Server>(sc, std::move(router), metrics_, &clock);
  port_ = server_->listen().port();
  thread_ = std::thread([this] { server_->run(); });
}

TestServer::~TestServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

ClientResponse Browser::send(http::verb verb, const std::string& target, const std::string& body,
                             const std::map<std::string, std::string>& headers) {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
  std::string jar;
  for (const auto& [k, v] : cookies) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
  if (!jar.empty()) req.set(http::field::cookie, jar);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (verb == http::verb::post && !headers.contains("Content-Type")) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
  }
  req.body() = body;
  req.prepare_payload();

  ClientResponse res;
  beast::flat_buffer buffer;
  boost::system::error_code failure;
  stream.expires_after(std::chrono::seconds{10});
  stream.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port_}, [&](boost::system::error_code ec) {
    if (ec) {
      failure = ec;
      return;
    }
    http::async_write(stream, req, [&](boost::system::error_code wec, std::size_t) {
      if (wec) {
        failure = wec;
        return;
      }
      http::async_read(stream, buffer, res, [&](boost::system::error_code rec, std::size_t) { failure = rec; });
    });
  });
  ioc.run();  // every step has the 10 s deadline of the stream
  if (failure) throw boost::system::system_error(failure, "request " + target);
  for (const auto& field : res.base()) {
    if (field.name() != http::field::set_cookie) continue;
    const std::string_view line = field.value();
    const auto eq = line.find('=');
    const auto semi = line.find(';');
    const std::string name(line.substr(0, eq));
    const std::string value(line.substr(eq + 1, semi - eq - 1));
    if (line.find("Max-Age=0") != std::string_view::npos || value.empty()) {
      cookies.erase(name);
    } else {
      cookies[name] = value;
    }
  }
  return res;
}

ClientResponse Browser::get(const std::string& target, const std::map<std::string, std::string>& headers) {
  return send(http::verb::get, target, {}, headers);
}

ClientResponse Browser::post(const std::string& target, const std::string& body,
                             const std::map<std::string, std::string>& headers) {
  return send(http::verb::post, target, body, headers);
}

ClientResponse Browser::login(const std::string& email, const std::string& password) {
  const auto page = get("/login");
  return post("/login", form({{"csrf", csrfField(page.body())}, {"email", email}, {"password", password}}));
}

std::string Browser::csrf() { return csrfField(get("/events").body()); }

std::string form(std::initializer_list<std::pair<std::string, std::string>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += urlEncode(k) + "=" + urlEncode(v);
  }
  return out;
}

}  // namespace attendance::admin_web::testing
