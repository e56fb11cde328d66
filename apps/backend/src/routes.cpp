// The backend's HTTP routes. Each handler: cheap checks on the I/O thread, then
// one job on the bounded BlockingPool for database work, then the response.
#include <any>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <attendance/core/assignments.hpp>
#include <attendance/core/content_digest.hpp>
#include <attendance/core/deployment.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/participant_data.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/core/report.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/utf8.hpp>

#include "backend.hpp"
#include "web/participant_web.hpp"
#include "web/responses.hpp"

namespace attendance::backend {
namespace {

namespace hs = http_server;
namespace http = hs::http;
namespace json = boost::json;
using boost::asio::awaitable;

constexpr std::string_view kRetryAfterUnavailable = "2";

hs::Response errorFor(const boost::system::error_code& ec, std::string_view message = {}) {
  const int status = core::httpStatusFor(ec);
  auto res = hs::errorResponse(static_cast<http::status>(status), message.empty() ? ec.message() : message);
  if (status == 503) res.set(http::field::retry_after, kRetryAfterUnavailable);
  if (status == 401) res.set(http::field::www_authenticate, "Bearer");
  return res;
}

hs::Response unauthorized(std::string_view message) {
  auto res = hs::errorResponse(http::status::unauthorized, message);
  res.set(http::field::www_authenticate, "Bearer");
  return res;
}

// 403 for a scanner that is not assigned to the event, or an event that does not
// exist (the same answer: docs/adr/0046-scanners-are-assigned-to-events.md).
hs::Response notAssigned(std::string_view scannerId, std::string_view eventId) {
  return hs::errorResponse(http::status::forbidden, core::notAssignedMessage(scannerId, eventId));
}

hs::Response tooManyRequests(std::chrono::seconds wait) {
  auto res = hs::errorResponse(http::status::too_many_requests, "rate limit exceeded");
  res.set(http::field::retry_after, std::to_string(wait.count()));
  return res;
}

// 400 with a machine-readable reason beside the message, for a client to act on.
hs::Response badRequestWithReason(std::string_view message, std::string_view reason) {
  std::string body = "{\"error\":";
  support::appendJsonString(body, message);
  body += ",\"reason\":";
  support::appendJsonString(body, reason);
  body += "}";
  return hs::jsonResponse(http::status::bad_request, std::move(body));
}

std::string uuidText(const support::Uuid& u) { return u.toString(); }

// Parses a small JSON object body for the participant API.
struct JsonBody {
  json::object object;
  std::optional<hs::Response> error;
};

JsonBody parseJsonObject(const hs::Request& req) {
  JsonBody out;
  if (!hs::isJsonContentType(req)) {
    out.error = hs::errorResponse(http::status::unsupported_media_type, "Content-Type must be application/json");
    return out;
  }
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 16;
  json::value v = json::parse(req.body(), ec, {}, opts);
  // The parser refuses invalid UTF-8 as a plain syntax error; say which it was.
  if (ec && !support::isValidUtf8(req.body())) {
    out.error = hs::errorResponse(http::status::bad_request, "body is not valid UTF-8");
    return out;
  }
  if (ec || !v.is_object()) {
    out.error = hs::errorResponse(http::status::bad_request, "body must be a JSON object");
    return out;
  }
  out.object = std::move(v.as_object());
  return out;
}

// A required string member, or an error message.
std::optional<std::string> stringField(const json::object& o, std::string_view key, std::string& error) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    error = fmt::format("\"{}\" must be a string", key);
    return std::nullopt;
  }
  return std::string{v->as_string()};
}

std::string userJson(const core::User& u) {
  std::string out = "{\"userId\":";
  support::appendJsonString(out, u.id);
  out += ",\"email\":";
  support::appendJsonString(out, u.email);
  out += ",\"displayName\":";
  support::appendJsonString(out, u.displayName);
  out += ",\"bleUuid\":";
  support::appendJsonString(out, uuidText(u.bleUuid));
  out += "}";
  return out;
}

// Authenticates the scanner key on the pool, then applies its rate limit.
// Returns the scannerId, or the response to send instead.
awaitable<std::variant<std::string, hs::Response>> authenticateScanner(BackendContext& ctx, const hs::Request& req) {
  const std::string key{hs::bearerToken(req)};
  if (key.empty()) co_return unauthorized("missing scanner API key (Authorization: Bearer <key>)");
  auto scanner = co_await ctx.blocking.run([&] { return core::authenticateScanner(ctx.db, key); });
  if (!scanner) {
    if (scanner.error() == core::Errc::unauthorized) co_return unauthorized("unknown or revoked scanner API key");
    co_return errorFor(scanner.error());
  }
  if (auto wait = ctx.scannerLimiter.acquire(*scanner)) {
    ctx.metrics.increment("attendance_rate_limited_total", {{"kind", "scanner"}});
    co_return tooManyRequests(*wait);
  }
  co_return std::move(*scanner);
}

awaitable<std::variant<core::User, hs::Response>> authenticateUser(BackendContext& ctx, const hs::Request& req) {
  const std::string token{hs::bearerToken(req)};
  if (token.empty()) co_return unauthorized("missing session token (Authorization: Bearer <token>)");
  const auto now = ctx.clock.systemTime();
  auto user = co_await ctx.blocking.run([&] { return core::authenticateToken(ctx.db, token, now); });
  if (!user) {
    if (user.error() == core::Errc::unauthorized) co_return unauthorized("unknown or expired session token");
    co_return errorFor(user.error());
  }
  co_return std::move(*user);
}

std::optional<hs::Response> limitClient(BackendContext& ctx, const hs::RequestContext& rc) {
  if (auto wait = ctx.clientLimiter.acquire(rc.remote.to_string())) {
    ctx.metrics.increment("attendance_rate_limited_total", {{"kind", "client"}});
    return tooManyRequests(*wait);
  }
  return std::nullopt;
}

// ---- guards: on the header alone, before a body byte is read or `100 Continue`
// is sent (docs/backend.md). What they establish reaches the handler as rc.principal.

// A scanner key (then its rate limit) -> the scannerId.
hs::HeaderGuard scannerKeyGuard(BackendContext& ctx) {
  return [&ctx](hs::RequestContext& rc) -> awaitable<std::optional<hs::Response>> {
    auto auth = co_await authenticateScanner(ctx, rc.request);
    if (auto* res = std::get_if<hs::Response>(&auth)) co_return std::move(*res);
    rc.principal = std::move(std::get<std::string>(auth));
    co_return std::nullopt;
  };
}

// A participant's session token -> the core::User. Not `required`: only when one is sent.
hs::HeaderGuard sessionGuard(BackendContext& ctx, bool required) {
  return [&ctx, required](hs::RequestContext& rc) -> awaitable<std::optional<hs::Response>> {
    if (!required && hs::bearerToken(rc.request).empty()) co_return std::nullopt;
    auto auth = co_await authenticateUser(ctx, rc.request);
    if (auto* res = std::get_if<hs::Response>(&auth)) co_return std::move(*res);
    rc.principal = std::move(std::get<core::User>(auth));
    co_return std::nullopt;
  };
}

// Sign-up and sign-in: the per-address request rate, before their body is read.
hs::HeaderGuard clientRateGuard(BackendContext& ctx) {
  return [&ctx](hs::RequestContext& rc) -> awaitable<std::optional<hs::Response>> { co_return limitClient(ctx, rc); };
}

// Password hashing runs on its own small pool: when it is full the answer is
// 429, and ingest and reports on the database pool never wait behind Argon2id.
template <class F>
awaitable<std::variant<std::invoke_result_t<F&>, hs::Response>> onPasswordPool(BackendContext& ctx, F f) {
  using R = std::invoke_result_t<F&>;
  std::optional<R> result;
  try {
    result.emplace(co_await ctx.passwords.run(std::move(f)));
  } catch (const hs::PoolSaturated&) {
    ctx.metrics.increment("attendance_rate_limited_total", {{"kind", "password_pool"}});
  }
  if (!result) {
    auto res = hs::errorResponse(http::status::too_many_requests, "too many sign-ins at once, retry shortly");
    res.set(http::field::retry_after, "1");
    co_return res;
  }
  co_return std::move(*result);
}

// POST /batchCheckIn
// The key and the media type were checked from the header (scannerKeyGuard, RouteOptions).
awaitable<hs::Response> batchCheckIn(BackendContext& ctx, hs::RequestContext& rc) {
  const hs::Request& req = rc.request;
  const std::string scannerId = std::any_cast<std::string>(rc.principal);
  if (!hs::isJsonContentType(req)) {  // a POST with an empty body skips the header check
    co_return hs::errorResponse(http::status::unsupported_media_type, "Content-Type must be application/json");
  }

  const auto now = ctx.clock.systemTime();
  // Content-Digest (RFC 9530), when sent: a body changed on the way is refused
  // before it is parsed, so no altered record can be stored (docs/sync.md).
  std::string digestField;
  for (auto [it, end] = req.equal_range("Content-Digest"); it != end; ++it) {
    if (!digestField.empty()) digestField += ',';
    digestField += it->value();
  }
  // Parsing up to 16 MiB of JSON is CPU work: it runs on the pool too, next to the insert.
  struct Outcome {
    core::DigestCheck digest = core::DigestCheck::absent;
    std::optional<core::BatchParseResult> parseError;
    std::string eventId;
    Result<core::IngestResult> ingest{core::Errc::internal};
  };
  Outcome outcome = co_await ctx.blocking.run([&] {
    Outcome o;
    if (!digestField.empty()) {
      o.digest = core::checkContentDigest(digestField, req.body());
      if (o.digest == core::DigestCheck::mismatch || o.digest == core::DigestCheck::malformed) return o;
    }
    core::BatchParseResult parsed = core::parseBatchBody(req.body(), ctx.batchLimits);
    if (!parsed.ok()) {
      o.parseError = std::move(parsed);
      return o;
    }
    auto request = core::IngestRequest::fromParsed(std::move(parsed.batch), scannerId);
    o.eventId = request.eventId;
    o.ingest = core::ingestBatch(ctx.db, request, now, ctx.ingest);
    return o;
  });
  if (outcome.digest == core::DigestCheck::mismatch) {
    ctx.metrics.increment("attendance_content_digest_mismatches_total");
    support::log::warn("backend.content_digest_mismatch", {{"scannerId", scannerId}, {"bytes", req.body().size()}});
    co_return badRequestWithReason(
        "the body does not match its Content-Digest (sha-256): it was changed on the way; nothing of it was stored",
        core::kContentDigestMismatch);
  }
  if (outcome.digest == core::DigestCheck::malformed) {
    co_return badRequestWithReason("Content-Digest: the sha-256 member is not a base64 SHA-256 digest (RFC 9530)",
                                   "content_digest_malformed");
  }
  if (outcome.parseError) {
    const auto status = core::httpStatusFor(outcome.parseError->error) == 413 ? http::status::payload_too_large
                                                                              : http::status::bad_request;
    co_return hs::errorResponse(status, outcome.parseError->message);
  }
  if (!outcome.ingest) {
    if (outcome.ingest.error() == core::Errc::scanner_not_assigned) {
      co_return notAssigned(scannerId, outcome.eventId);
    }
    co_return errorFor(outcome.ingest.error());
  }
  const core::IngestResult& r = *outcome.ingest;
  ctx.metrics.increment("attendance_records_received_total", {}, static_cast<double>(r.received));
  ctx.metrics.increment("attendance_records_ingested_total", {}, static_cast<double>(r.inserted));
  ctx.metrics.increment("attendance_records_duplicate_total", {}, static_cast<double>(r.duplicates));
  ctx.metrics.increment("attendance_records_rejected_total", {}, static_cast<double>(r.rejected.size()));
  if (r.copyConflicted) ctx.metrics.increment("attendance_ingest_copy_conflicts_total");
  support::log::info("backend.batch", {{"eventId", r.eventId},
                                       {"scannerId", scannerId},
                                       {"received", r.received},
                                       {"inserted", r.inserted},
                                       {"duplicates", r.duplicates},
                                       {"rejected", r.rejected.size()}});
  co_return hs::jsonResponse(http::status::ok, core::renderIngestResultJson(r));
}

// GET /api/events/{id}/roster (scanner key): only for a scanner assigned to the event.
awaitable<hs::Response> roster(BackendContext& ctx, hs::RequestContext& rc) {
  const std::string eventId = rc.params.at("id");
  const auto& scannerId = std::any_cast<const std::string&>(rc.principal);
  struct RosterAnswer {
    support::BleNamespace bleNamespace;
    bool privateIds = false;
    std::vector<support::Uuid> ids;
  };
  auto answer = co_await ctx.blocking.run([&]() -> Result<RosterAnswer> {
    auto assigned = core::isAssigned(ctx.db, scannerId, eventId);
    if (!assigned) return assigned.error();
    if (!*assigned) return core::make_error_code(core::Errc::scanner_not_assigned);
    auto ns = core::readBleNamespace(ctx.db);
    if (!ns) return ns.error();
    auto event = core::getEvent(ctx.db, eventId);
    if (!event) return event.error();
    // A private-ids event's participants broadcast rotating ids: its roster names nobody, and the
    // scanner logs every id in the namespace (ADR 0078).
    auto ids = event->privateIds ? Result<std::vector<support::Uuid>>{std::vector<support::Uuid>{}}
                                 : core::roster(ctx.db, eventId);
    if (!ids) return ids.error();
    // A scanner starting for a private-ids event: build the event's resolver index now, so its
    // first sync costs what a static-id sync costs (docs/beacon-spec.md "Resolving"). A failure
    // here only means the first batch builds it.
    if (ctx.ingest.privateIds && ctx.ingest.privateIds->hasServerKey()) {
      if (auto built = ctx.ingest.privateIds->prepare(ctx.db, eventId); built && *built > 0) {
        support::log::info("backend.private_ids_prepared", {{"eventId", eventId}, {"entries", *built}});
      }
    }
    return RosterAnswer{*ns, event->privateIds, std::move(*ids)};
  });
  if (!answer && answer.error() == core::Errc::scanner_not_assigned) co_return notAssigned(scannerId, eventId);
  if (!answer) co_return errorFor(answer.error());
  const auto* ids = &answer->ids;
  // The namespace lets the scanner tell this deployment's unregistered participants
  // from strangers' devices (ADR 0027).
  std::string out = "{\"eventId\":";
  support::appendJsonString(out, eventId);
  out += ",\"namespace\":\"" + answer->bleNamespace.toHex() + "\"";
  if (answer->privateIds) out += ",\"privateIds\":true";
  out += ",\"bleUuids\":[";
  for (std::size_t i = 0; i < ids->size(); ++i) {
    if (i > 0) out += ',';
    support::appendJsonString(out, uuidText((*ids)[i]));
  }
  out += "]}";
  co_return hs::jsonResponse(http::status::ok, std::move(out));
}

// POST /api/participants
awaitable<hs::Response> createParticipant(BackendContext& ctx, hs::RequestContext& rc) {
  JsonBody body = parseJsonObject(rc.request);
  if (body.error) co_return std::move(*body.error);
  std::string error;
  auto email = stringField(body.object, "email", error);
  auto name = email ? stringField(body.object, "displayName", error) : std::nullopt;
  auto password = name ? stringField(body.object, "password", error) : std::nullopt;
  if (!password) co_return hs::errorResponse(http::status::bad_request, error);
  core::NewUser user{*email, *name, *password};
  if (auto why = core::validateNewUser(user, ctx.auth)) co_return hs::errorResponse(http::status::bad_request, *why);
  const auto now = ctx.clock.systemTime();
  auto hashed = co_await onPasswordPool(ctx, [&] { return core::createParticipant(ctx.db, user, ctx.auth, now); });
  if (auto* busy = std::get_if<hs::Response>(&hashed)) co_return std::move(*busy);
  auto& created = std::get<0>(hashed);
  if (!created) {
    if (created.error() == core::Errc::conflict) {
      co_return hs::errorResponse(http::status::conflict, "a participant with this email already exists");
    }
    co_return errorFor(created.error());
  }
  std::string out = "{\"userId\":";
  support::appendJsonString(out, created->user.id);
  out += ",\"bleUuid\":";
  support::appendJsonString(out, uuidText(created->user.bleUuid));
  out += ",\"token\":";
  support::appendJsonString(out, created->session.token);
  out += ",\"expiresAt\":";
  support::appendJsonString(out, core::formatIsoUtc(created->session.expiresAt));
  out += "}";
  co_return hs::jsonResponse(http::status::created, std::move(out));
}

// POST /api/sessions
awaitable<hs::Response> createSession(BackendContext& ctx, hs::RequestContext& rc) {
  JsonBody body = parseJsonObject(rc.request);
  if (body.error) co_return std::move(*body.error);
  std::string error;
  auto email = stringField(body.object, "email", error);
  auto password = email ? stringField(body.object, "password", error) : std::nullopt;
  if (!password) co_return hs::errorResponse(http::status::bad_request, error);
  const auto now = ctx.clock.systemTime();
  const std::string address = rc.remote.to_string();
  auto checked = co_await onPasswordPool(
      ctx, [&] { return core::signInParticipant(ctx.db, *email, *password, address, ctx.auth, now); });
  if (auto* busy = std::get_if<hs::Response>(&checked)) co_return std::move(*busy);
  auto& signIn = std::get<0>(checked);
  if (!signIn) {
    if (signIn.error() == core::Errc::unauthorized) co_return unauthorized("wrong email or password");
    co_return errorFor(signIn.error());
  }
  if (signIn->retryAfter) {
    ctx.metrics.increment("attendance_rate_limited_total", {{"kind", "sign_in"}});
    auto res = hs::errorResponse(http::status::too_many_requests, "too many failed sign-ins, try again later");
    res.set(http::field::retry_after, std::to_string(signIn->retryAfter->count()));
    co_return res;
  }
  const core::Session& session = *signIn->session;
  std::string out = "{\"token\":";
  support::appendJsonString(out, session.token);
  out += ",\"userId\":";
  support::appendJsonString(out, session.userId);
  out += ",\"expiresAt\":";
  support::appendJsonString(out, core::formatIsoUtc(session.expiresAt));
  out += "}";
  co_return hs::jsonResponse(http::status::ok, std::move(out));
}

// GET /api/me
awaitable<hs::Response> me(BackendContext&, hs::RequestContext& rc) {
  co_return hs::jsonResponse(http::status::ok, userJson(std::any_cast<const core::User&>(rc.principal)));
}

// GET /api/me/beacon: what the participant's broadcaster needs (docs/beacon-spec.md "Delivery").
awaitable<hs::Response> meBeacon(BackendContext& ctx, hs::RequestContext& rc) {
  const auto& user = std::any_cast<const core::User&>(rc.principal);
  const auto now = ctx.clock.systemTime();
  const core::ServerKey* server = ctx.ingest.privateIds ? ctx.ingest.privateIds->serverKey() : nullptr;
  const auto period = ctx.ingest.privateIds ? ctx.ingest.privateIds->options().period : beacon_id::RotationPeriod{};
  auto settings =
      co_await ctx.blocking.run([&] { return core::readBeaconSettings(ctx.db, server, user.id, now, period); });
  if (!settings) co_return errorFor(settings.error());
  auto res = hs::jsonResponse(http::status::ok, core::renderBeaconSettingsJson(*settings));
  res.set(http::field::cache_control, "no-store");  // it may carry the identity key
  co_return res;
}

// GET /api/me/export: everything stored about the participant, the document of the page's /me/export.json
// (core::exportParticipantJson, GDPR art. 20).
awaitable<hs::Response> meExport(BackendContext& ctx, hs::RequestContext& rc) {
  const auto& user = std::any_cast<const core::User&>(rc.principal);
  const auto now = ctx.clock.systemTime();
  auto doc = co_await ctx.blocking.run([&] { return core::exportParticipantJson(ctx.db, user.id, now); });
  if (!doc) co_return errorFor(doc.error());
  auto res = hs::jsonResponse(http::status::ok, std::move(*doc));
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::content_disposition, "attachment; filename=\"attendance-my-data.json\"");
  co_return res;
}

// DELETE /api/me {"password": "..."}: the page's erasure (core::deleteParticipant, GDPR art. 17, ADR 0069):
// a session token alone cannot erase an account, its password must come with it (ADR 0076).
awaitable<hs::Response> deleteMe(BackendContext& ctx, hs::RequestContext& rc) {
  const auto& user = std::any_cast<const core::User&>(rc.principal);
  JsonBody body = parseJsonObject(rc.request);
  if (body.error) co_return std::move(*body.error);
  std::string error;
  auto password = stringField(body.object, "password", error);
  if (!password) co_return hs::errorResponse(http::status::bad_request, error);
  const auto now = ctx.clock.systemTime();
  const std::string address = rc.remote.to_string();
  auto checked = co_await onPasswordPool(
      ctx, [&] { return core::deleteParticipant(ctx.db, user.id, *password, address, ctx.auth, now); });
  if (auto* busy = std::get_if<hs::Response>(&checked)) co_return std::move(*busy);
  auto& deleted = std::get<0>(checked);
  if (!deleted) {
    if (deleted.error() == core::Errc::unauthorized) co_return unauthorized("wrong password; nothing was deleted");
    co_return errorFor(deleted.error());
  }
  if (deleted->retryAfter) {
    ctx.metrics.increment("attendance_rate_limited_total", {{"kind", "sign_in"}});
    auto res = hs::errorResponse(http::status::too_many_requests,
                                 "too many wrong passwords, try again later; nothing was deleted");
    res.set(http::field::retry_after, std::to_string(deleted->retryAfter->count()));
    co_return res;
  }
  support::log::info("participant.account_deleted", {{"userId", user.id}});
  std::string out = "{\"userId\":";
  support::appendJsonString(out, user.id);
  out += ",\"deleted\":true}";
  co_return hs::jsonResponse(http::status::ok, std::move(out));
}

// GET /api/events: upcoming events; with a valid token each says whether the user is registered.
awaitable<hs::Response> events(BackendContext& ctx, hs::RequestContext& rc) {
  const auto* user = std::any_cast<core::User>(&rc.principal);
  const std::string userId = user != nullptr ? user->id : std::string{};
  const auto now = ctx.clock.systemTime();
  auto list = co_await ctx.blocking.run([&] { return core::listUpcomingEvents(ctx.db, now, userId); });
  if (!list) co_return errorFor(list.error());
  co_return hs::jsonResponse(http::status::ok, core::renderEventsJson(*list, !userId.empty(), now));
}

// POST /api/events/{id}/registrations: a seat, or a waitlist place when the event is full
// (core::requestRegistration, the participant pages' rule too); 409 once registration closed.
awaitable<hs::Response> registerForEvent(BackendContext& ctx, hs::RequestContext& rc) {
  const auto& user = std::any_cast<const core::User&>(rc.principal);
  const std::string eventId = rc.params.at("id");
  const auto now = ctx.clock.systemTime();
  auto outcome = co_await ctx.blocking.run([&] { return core::requestRegistration(ctx.db, eventId, user.id, now); });
  if (!outcome) co_return errorFor(outcome.error());
  const bool registered = outcome->status == core::RegistrationStatus::registered;
  std::string out = "{\"eventId\":";
  support::appendJsonString(out, eventId);
  out += ",\"userId\":";
  support::appendJsonString(out, user.id);
  out += fmt::format(",\"registered\":{},\"status\":\"{}\",\"waitlistPosition\":{},\"created\":{}}}",
                     registered ? "true" : "false", registered ? "registered" : "waitlisted",
                     registered ? std::string{"null"} : std::to_string(outcome->waitlistPosition),
                     outcome->created ? "true" : "false");
  co_return hs::jsonResponse(outcome->created ? http::status::created : http::status::ok, std::move(out));
}

// DELETE /api/events/{id}/registrations: gives up the seat (the first waitlisted
// participant gets it) or the waitlist place.
awaitable<hs::Response> unregisterFromEvent(BackendContext& ctx, hs::RequestContext& rc) {
  const auto& user = std::any_cast<const core::User&>(rc.principal);
  const std::string eventId = rc.params.at("id");
  auto cancelled = co_await ctx.blocking.run([&] { return core::cancelRegistration(ctx.db, eventId, user.id); });
  if (!cancelled) co_return errorFor(cancelled.error());
  std::string out = "{\"eventId\":";
  support::appendJsonString(out, eventId);
  out += fmt::format(",\"registered\":false,\"removed\":{},\"was\":{}}}",
                     cancelled->was != core::RegistrationStatus::none ? "true" : "false",
                     cancelled->was == core::RegistrationStatus::registered   ? "\"registered\""
                     : cancelled->was == core::RegistrationStatus::waitlisted ? "\"waitlisted\""
                                                                              : "null");
  co_return hs::jsonResponse(http::status::ok, std::move(out));
}

// GET /readyz: database reachable and schema current; 503 while draining.
awaitable<hs::Response> readyz(BackendContext& ctx, hs::RequestContext&) {
  if (ctx.draining()) co_return hs::errorResponse(http::status::service_unavailable, "draining");
  auto status = co_await ctx.blocking.run([&] { return core::schemaStatus(ctx.db); });
  if (!status) co_return errorFor(status.error(), "database unavailable");
  if (!status->upToDate()) {
    auto res = hs::errorResponse(http::status::service_unavailable,
                                 fmt::format("database schema is at version {}, expected {}: {}", status->current,
                                             status->expected, core::kRunMigrateHint));
    res.set(http::field::retry_after, kRetryAfterUnavailable);
    co_return res;
  }
  co_return hs::jsonResponse(http::status::ok,
                             fmt::format(R"({{"status":"ready","schemaVersion":{}}})", status->current));
}

}  // namespace

hs::Router makeRouter(BackendContext& ctx) {
  ctx.metrics.describeCounter("attendance_records_received_total", "Check-in records received by /batchCheckIn");
  ctx.metrics.describeCounter("attendance_records_ingested_total", "Check-in records newly stored");
  ctx.metrics.describeCounter("attendance_records_duplicate_total", "Check-in records already stored");
  ctx.metrics.describeCounter("attendance_records_rejected_total", "Check-in records rejected individually");
  ctx.metrics.describeCounter("attendance_rate_limited_total", "Requests answered 429");
  ctx.metrics.describeCounter("attendance_ingest_copy_conflicts_total",
                              "Batches whose direct COPY met a stored row (one PostgreSQL ERROR line each)");
  ctx.metrics.describeCounter("attendance_content_digest_mismatches_total",
                              "/batchCheckIn bodies refused because they did not match their Content-Digest");
  ctx.metrics.increment("attendance_records_ingested_total", {}, 0);
  ctx.metrics.increment("attendance_content_digest_mismatches_total", {}, 0);
  ctx.metrics.increment("attendance_ingest_copy_conflicts_total", {}, 0);

  auto bind = [&ctx](awaitable<hs::Response> (*fn)(BackendContext&, hs::RequestContext&)) {
    return [&ctx, fn](hs::RequestContext& rc) { return fn(ctx, rc); };
  };
  // Every authenticated route checks its credential on the header, before the body.
  auto options = [](std::size_t maxBody, hs::HeaderGuard guard) {
    return hs::RouteOptions{.maxBody = maxBody, .guard = std::move(guard), .contentType = "application/json"};
  };
  const std::size_t api = ctx.maxApiBody;

  hs::Router r;
  r.add(http::verb::post, "/batchCheckIn", bind(&batchCheckIn),
        options(ctx.batchLimits.maxBodyBytes, scannerKeyGuard(ctx)));
  r.add(http::verb::get, "/api/events/{id}/roster", bind(&roster), options(api, scannerKeyGuard(ctx)));
  r.add(http::verb::post, "/api/participants", bind(&createParticipant), options(api, clientRateGuard(ctx)));
  r.add(http::verb::post, "/api/sessions", bind(&createSession), options(api, clientRateGuard(ctx)));
  r.add(http::verb::get, "/api/me", bind(&me), options(api, sessionGuard(ctx, true)));
  r.add(http::verb::get, "/api/me/beacon", bind(&meBeacon), options(api, sessionGuard(ctx, true)));
  r.add(http::verb::get, "/api/me/export", bind(&meExport), options(api, sessionGuard(ctx, true)));
  r.add(http::verb::delete_, "/api/me", bind(&deleteMe), options(api, sessionGuard(ctx, true)));
  r.add(http::verb::get, "/api/events", bind(&events), options(api, sessionGuard(ctx, false)));
  r.add(http::verb::post, "/api/events/{id}/registrations", bind(&registerForEvent),
        options(api, sessionGuard(ctx, true)));
  r.add(http::verb::delete_, "/api/events/{id}/registrations", bind(&unregisterFromEvent),
        options(api, sessionGuard(ctx, true)));
  const hs::RouteOptions apiOptions{.maxBody = api};
  r.add(http::verb::get, "/readyz", bind(&readyz), apiOptions);
  web::addParticipantPages(r, ctx);  // the participant web app at `/` (docs/participant-web.md)
  admin_web::addOpenApiRoute(r, openApiDocument());
  return r;
}

}  // namespace attendance::backend
