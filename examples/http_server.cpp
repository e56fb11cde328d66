// attendance::http_server: the Beast server both servers share. Handlers are plain functions from a
// request to a response; limits, guards (checked on the header, before the body), metrics and drain
// are the server's. Here the whole request path runs on bytes in memory, without a socket.
#include <cstdio>
#include <string>

#include <attendance/http_server/message.hpp>
#include <attendance/http_server/metrics.hpp>
#include <attendance/http_server/router.hpp>
#include <attendance/http_server/server.hpp>

int main() {
  namespace hs = attendance::http_server;
  hs::Router router;
  router.addSync(hs::http::verb::get, "/hello/{name}", [](hs::RequestContext& rc) {
    std::string body = "{\"hello\":\"" + rc.params.at("name") + "\"}";  // a real handler escapes (support)
    return hs::jsonResponse(hs::http::status::ok, std::move(body));
  });
  // A route that requires a bearer token: the guard refuses a stranger before any body byte is read.
  router.addSync(
      hs::http::verb::post, "/notes",
      [](hs::RequestContext&) { return hs::jsonResponse(hs::http::status::created, "{}"); },
      hs::RouteOptions{.maxBody = 4096,
                       .guard = [](hs::RequestContext& rc) -> boost::asio::awaitable<std::optional<hs::Response>> {
                         if (hs::bearerToken(rc.request) != "secret") {
                           co_return hs::errorResponse(hs::http::status::unauthorized, "who are you?");
                         }
                         co_return std::nullopt;
                       },
                       .contentType = "application/json"});

  hs::MetricsRegistry metrics;
  hs::Server server{hs::ServerConfig{}, std::move(router), metrics};  // adds /healthz, /readyz, /metrics
  // A real program: server.listen(); server.runUntilSignal();  (SIGTERM drains gracefully)
  const std::string hello = server.serveBytes("GET /hello/ada HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string refused = server.serveBytes(
      "POST /notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  std::printf("%s\n---\n%s\n", hello.c_str(), refused.c_str());
  return hello.starts_with("HTTP/1.1 200") && refused.starts_with("HTTP/1.1 401") ? 0 : 1;
}
