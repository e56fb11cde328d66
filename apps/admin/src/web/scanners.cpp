// Scanners: keys, revocation and assignments to events; /api/scanners.
#include "console.hpp"

#include <fmt/format.h>

#include <attendance/core/assignments.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/report.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/log.hpp>

namespace attendance::admin_web {

Response Console::scannersPage(Call& call, http::status status, std::string flashHtml,
                               const std::optional<core::CreatedScanner>& created) {
  auto list = core::listScanners(pool);
  if (!list) return failure(call, list.error());
  auto assignments = core::listAssignments(pool);
  if (!assignments) return failure(call, assignments.error());
  auto events = core::listEvents(pool);
  if (!events) return failure(call, events.error());
  pages::ScannersView view{std::move(*list), std::move(*assignments), std::move(*events)};
  Response res = page(call, status, "Scanners", pages::Nav::scanners, std::move(flashHtml),
                      pages::scanners(view, call.session->csrfToken, created));
  return res;
}

Response Console::getScanners(Call& call) {
  return scannersPage(call, http::status::ok, noticeFor(pages::notices(), call.query("notice")), std::nullopt);
}

Response Console::apiScanners(Call& call) {
  auto list = core::listScanners(pool);
  if (!list) return failure(call, list.error());
  auto assignments = core::listAssignments(pool);
  if (!assignments) return failure(call, assignments.error());
  std::string out = "{\"scanners\":[";
  bool first = true;
  for (const auto& s : *list) {
    if (!first) out += ',';
    first = false;
    out += "{\"scannerId\":";
    support::appendJsonString(out, s.scannerId);
    out += ",\"keyPrefix\":";
    support::appendJsonString(out, s.keyPrefix);
    out += fmt::format(",\"createdAt\":\"{}\",\"revokedAt\":{},\"lastSyncAt\":{},\"recordsReceived\":{}}}",
                       core::formatIsoUtc(s.createdAt),
                       s.revokedAt ? "\"" + core::formatIsoUtc(*s.revokedAt) + "\"" : "null",
                       s.lastSyncAt ? "\"" + core::formatIsoUtc(*s.lastSyncAt) + "\"" : "null", s.recordsReceived);
    out.pop_back();  // the object's '}': its events follow
    out += ",\"events\":[";
    bool firstEvent = true;
    for (const auto& a : *assignments) {
      if (a.scannerId != s.scannerId) continue;
      if (!firstEvent) out += ',';
      firstEvent = false;
      support::appendJsonString(out, a.eventId);
    }
    out += "]}";
  }
  out += "]}";
  return jsonOut(http::status::ok, std::move(out));
}

Response Console::postScanners(Call& call) {
  const std::string id = call.field("scannerId");
  auto created = core::createScanner(pool, id, now());
  if (!created && created.error() == core::Errc::invalid_argument) {
    return scannersPage(
        call, http::status::bad_request,
        pages::flash(pages::FlashKind::error, "Scanner ids use 1 to 128 letters, digits, '.', '_', ':' or '-'."),
        std::nullopt);
  }
  if (!created && created.error() == core::Errc::conflict) {
    return scannersPage(call, http::status::conflict,
                        pages::flash(pages::FlashKind::error, "A scanner with that id exists (ids are never reused)."),
                        std::nullopt);
  }
  if (!created) return failure(call, created.error());
  support::log::info("admin_web.scanner_created", {{"scanner", created->scannerId}, {"admin", call.session->adminId}});
  // Rendered directly (not redirected): the key must never be in a URL or a log.
  return scannersPage(call, http::status::created, {}, *created);
}

// Assign the scanner to the form's event: it may then sync into it and read its roster.
Response Console::postAssignment(Call& call) {
  auto r = core::assignScanner(pool, call.param("id"), call.field("eventId"), now());
  if (!r) return failure(call, r.error());
  support::log::info(
      "admin_web.scanner_assigned",
      {{"scanner", call.param("id")}, {"event", call.field("eventId")}, {"admin", call.session->adminId}});
  return redirect(*r ? "/scanners?notice=scanner-assigned" : "/scanners?notice=already-assigned");
}

Response Console::postUnassignment(Call& call) {
  auto r = core::unassignScanner(pool, call.param("id"), call.param("eventId"));
  if (!r) return failure(call, r.error());
  support::log::info(
      "admin_web.scanner_unassigned",
      {{"scanner", call.param("id")}, {"event", call.param("eventId")}, {"admin", call.session->adminId}});
  return redirect("/scanners?notice=scanner-unassigned");
}

Response Console::postRevoke(Call& call) {
  auto r = core::revokeScanner(pool, call.param("id"), now());
  if (!r) return failure(call, r.error());
  return redirect("/scanners?notice=scanner-revoked");
}

}  // namespace attendance::admin_web
