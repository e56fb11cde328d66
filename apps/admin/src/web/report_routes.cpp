// The report: /api/events/{id}/report (whole or paged) and the CSV download.
#include "console.hpp"

#include <algorithm>

#include "live_status.hpp"
#include "report_params.hpp"

namespace attendance::admin_web {

// Without page parameters: the whole report, exactly `attendance-admin report
// --format json`. With any of offset, limit, filter, q, sort, dir: one page
// (core::renderReportPageJson). Both from the cached report.
Response Console::apiReport(Call& call) {
  ReportRequest request = parseReportRequest(call.rc.query);
  if (!request.error.empty()) return jsonError(http::status::bad_request, request.error);
  auto cached = cachedReport(call.param("id"));
  if (!cached) return failure(call, cached.error());
  if (!request.paged) return jsonOut(http::status::ok, (*cached)->json());
  return jsonOut(http::status::ok, (*cached)->pageJson(request.query));
}

// From the cached report: one version query while nothing changed, so a page
// polling it every few seconds costs about what "Fetch Attendance Data" costs.
Response Console::apiLive(Call& call) {
  auto cached = cachedReport(call.param("id"));
  if (!cached) return failure(call, cached.error());
  return jsonOut(http::status::ok, renderLiveJson(liveStatus((*cached)->report(), now())));
}

namespace {

// The byte order mark makes Excel read the file as UTF-8 (LibreOffice and csv
// parsers skip it); the rest is core's RFC 4180 output.
Response csvDownload(std::string_view csv, std::string filename) {
  std::string body;
  body.reserve(3 + csv.size());
  body += "\xEF\xBB\xBF";
  body += csv;
  std::replace(filename.begin(), filename.end(), ':', '-');  // ids are [A-Za-z0-9._:-]
  Response res = http_server::textResponse(http::status::ok, std::move(body), "text/csv; charset=utf-8");
  res.set(http::field::content_disposition, "attachment; filename=\"" + filename + "\"");
  return res;
}

}  // namespace

Response Console::reportCsv(Call& call) {
  const std::string& id = call.param("id");
  auto cached = cachedReport(id);
  if (!cached) return failure(call, cached.error());
  Response res = csvDownload((*cached)->csv(), "attendance-" + id + ".csv");
  harden(res);
  return res;
}

Response Console::unknownDevicesCsv(Call& call) {
  const std::string& id = call.param("id");
  auto cached = cachedReport(id);
  if (!cached) return failure(call, cached.error());
  Response res = csvDownload(core::renderUnknownDevicesCsv((*cached)->report()), "unknown-devices-" + id + ".csv");
  harden(res);
  return res;
}

}  // namespace attendance::admin_web
