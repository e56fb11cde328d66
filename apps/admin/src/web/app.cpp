#include "app.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include <functional>

#include <attendance/support/log.hpp>

#include "console.hpp"

namespace attendance::admin_web {

WebOptions WebOptions::forTests() {
  WebOptions o;
  o.adminOpsLimit = 1;
  o.adminMemLimit = 8192;
  o.participantAuth = core::AuthConfig::forTests();
  return o;
}

WebApp::WebApp(core::ConnectionPool& pool, http_server::BlockingPool& blocking, const support::TimeSource& clock,
               WebOptions options, http_server::MetricsRegistry* metrics, core::ConnectionPool* reportPool)
    : impl_(std::make_unique<Console>(pool, reportPool != nullptr ? *reportPool : pool, blocking, clock, options,
                                      metrics)) {}

WebApp::~WebApp() = default;

void WebApp::addRoutes(http_server::Router& router) {
  Console* impl = impl_.get();
  // Runs `work` on the blocking pool (sign-ins: on the password pool) with the
  // console's own answers for a busy pool and a failure (HTML pages, not the
  // server's JSON). A full password queue is 429: too many sign-ins at once.
  auto onPool = [impl](RequestContext& rc, std::function<std::optional<Response>()> work,
                       bool signIn = false) -> boost::asio::awaitable<std::optional<Response>> {
    std::optional<Response> res;
    try {
      res = co_await (signIn ? impl->passwords : impl->blocking).run(std::move(work));
    } catch (const http_server::PoolSaturated&) {
      Response busy =
          signIn ? htmlResponse(http::status::too_many_requests,
                                pages::errorContent("Busy", "Too many sign-ins at once. Try again in a moment."))
                 : htmlResponse(http::status::service_unavailable,
                                pages::errorContent("Busy", "The server is busy. Try again in a moment."));
      busy.set(http::field::retry_after, "1");
      if (signIn && impl->metrics != nullptr) impl->metrics->increment("admin_sign_ins_refused_total");
      res = std::move(busy);
    } catch (const std::exception& e) {
      support::log::error("admin_web.handler_failed", {{"path", rc.path}, {"error", e.what()}});
      res = htmlResponse(http::status::internal_server_error, pages::errorContent("Error", "Something went wrong."));
    }
    co_return res;
  };
  auto add = [&](http::verb verb, std::string pattern, Access access, Console::Fn fn) {
    http_server::RouteOptions opts;
    if (verb == http::verb::post) opts.maxBody = kFormBodyLimit;
    if (access == Access::session) {
      // The session cookie is checked on the header: no body is read for a stranger.
      opts.guard = [impl, onPool](RequestContext& rc) -> boost::asio::awaitable<std::optional<Response>> {
        co_return co_await onPool(rc, [impl, &rc] { return impl->requireSession(rc); });
      };
    }
    // Only a sign-in hashes a password.
    const bool signIn = fn == &Console::postLogin;
    router.add(
        verb, std::move(pattern),
        [impl, access, fn, onPool, signIn](RequestContext& rc) -> boost::asio::awaitable<Response> {
          auto res = co_await onPool(
              rc, [impl, access, fn, &rc] { return std::optional<Response>{impl->dispatch(access, fn, rc)}; }, signIn);
          co_return std::move(*res);
        },
        opts);
  };
  using V = http::verb;
  add(V::get, "/login", Access::open, &Console::getLogin);
  add(V::post, "/login", Access::open, &Console::postLogin);
  add(V::get, "/assets/{name}", Access::open, &Console::getAsset);
  add(V::post, "/logout", Access::session, &Console::postLogout);
  add(V::get, "/", Access::session, &Console::getRoot);
  add(V::get, "/events", Access::session, &Console::getEvents);
  add(V::post, "/events", Access::session, &Console::postEvents);
  add(V::get, "/events/{id}", Access::session, &Console::getEvent);
  add(V::post, "/events/{id}", Access::session, &Console::postEvent);
  add(V::post, "/events/{id}/delete", Access::session, &Console::postEventDelete);
  add(V::post, "/events/{id}/registrations", Access::session, &Console::postRegistration);
  add(V::post, "/events/{id}/registrations/{userId}/delete", Access::session, &Console::postUnregister);
  add(V::post, "/events/{id}/door", Access::session, &Console::postDoor);
  add(V::get, "/events/{id}/report.csv", Access::session, &Console::reportCsv);
  add(V::get, "/events/{id}/unknown-devices.csv", Access::session, &Console::unknownDevicesCsv);
  add(V::get, "/participants", Access::session, &Console::getParticipants);
  add(V::post, "/participants", Access::session, &Console::postParticipants);
  add(V::post, "/participants/{id}/disable", Access::session, &Console::postDisable);
  add(V::post, "/participants/{id}/enable", Access::session, &Console::postEnable);
  add(V::post, "/participants/{id}/regenerate-ble-uuid", Access::session, &Console::postRegenerate);
  add(V::get, "/scanners", Access::session, &Console::getScanners);
  add(V::post, "/scanners", Access::session, &Console::postScanners);
  add(V::post, "/scanners/{id}/revoke", Access::session, &Console::postRevoke);
  add(V::post, "/scanners/{id}/assignments", Access::session, &Console::postAssignment);
  add(V::post, "/scanners/{id}/assignments/{eventId}/delete", Access::session, &Console::postUnassignment);
  add(V::get, "/api/events", Access::session, &Console::apiEvents);
  add(V::get, "/api/events/{id}/report", Access::session, &Console::apiReport);
  add(V::get, "/api/events/{id}/live", Access::session, &Console::apiLive);
  add(V::get, "/api/participants", Access::session, &Console::apiParticipants);
  add(V::get, "/api/scanners", Access::session, &Console::apiScanners);
  addOpenApiRoute(router, openApiDocument());
}

}  // namespace attendance::admin_web
