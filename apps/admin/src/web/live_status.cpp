#include "live_status.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <attendance/support/json_text.hpp>

namespace attendance::admin_web {

LiveStatus liveStatus(const core::EventReport& report, core::TimePoint now, std::chrono::seconds window) {
  LiveStatus out;
  out.synced = report.synced;
  const core::ReportVersion& v = report.version;
  out.version = fmt::format("{}.{}.{}.{}", v.event, v.users, v.receipts, v.unreceipted);
  for (const core::ScannerRow& row : report.scanners) {
    if (!row.lastSyncAt) continue;
    ScannerLive s;
    s.scannerId = row.scannerId;
    s.lastUploadAt = *row.lastSyncAt;
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - *row.lastSyncAt);
    s.secondsAgo = std::max<std::int64_t>(0, age.count());
    s.live = s.secondsAgo <= window.count();
    out.live = out.live || s.live;
    out.scanners.push_back(std::move(s));
  }
  return out;
}

std::string formatAge(std::int64_t seconds) {
  if (seconds < 60) return fmt::format("{} s", seconds);
  if (seconds < 3600) return fmt::format("{} min", seconds / 60);
  if (seconds < 48 * 3600) return fmt::format("{} h", seconds / 3600);
  return fmt::format("{} d", seconds / 86400);
}

std::string describeUpload(const ScannerLive& scanner) {
  return fmt::format("{}last upload {} ago", scanner.live ? "live — " : "", formatAge(scanner.secondsAgo));
}

std::string renderLiveJson(const LiveStatus& status, std::chrono::seconds window, std::chrono::seconds refresh) {
  std::string out = fmt::format(R"({{"synced":{},"live":{},"version":"{}","windowSeconds":{},"refreshSeconds":{},)",
                                status.synced, status.live, status.version, window.count(), refresh.count());
  out += "\"scanners\":[";
  for (std::size_t i = 0; i < status.scanners.size(); ++i) {
    const ScannerLive& s = status.scanners[i];
    if (i > 0) out += ',';
    out += "{\"scannerId\":";
    support::appendJsonString(out, s.scannerId);
    out += fmt::format(R"(,"lastUploadAt":"{}","secondsAgo":{},"live":{},"text":)", core::formatIsoUtc(s.lastUploadAt),
                       s.secondsAgo, s.live);
    support::appendJsonString(out, describeUpload(s));
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace attendance::admin_web
