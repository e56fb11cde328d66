#pragma once

// Whether each scanner of an event is uploading live (attendance-sync --follow,
// issue 14 §1), told from when its last batch arrived: pure, from a built
// report and the console's clock (docs/admin-web.md, "Live uploads").
#include <attendance/core/report.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attendance::admin_web {

// A follower uploads every --interval (10 s by default) while there is something
// new; three intervals without a batch and the scanner no longer counts as live.
inline constexpr std::chrono::seconds kLiveWindow{30};
// How often the report page asks /api/events/{id}/live while a scanner is live.
inline constexpr std::chrono::seconds kLiveRefresh{5};

struct ScannerLive {
  std::string scannerId;
  core::TimePoint lastUploadAt;
  std::int64_t secondsAgo = 0;  // never negative (the backend's clock may run ahead of ours)
  bool live = false;
};

struct LiveStatus {
  bool synced = false;                // some batch arrived: false keeps "Attendance data has not been synced."
  bool live = false;                  // some scanner is live
  std::string version;                // the report's data version: a change means the report changed
  std::vector<ScannerLive> scanners;  // those with a batch, by scannerId
};

[[nodiscard]] LiveStatus liveStatus(const core::EventReport& report, core::TimePoint now,
                                    std::chrono::seconds window = kLiveWindow);

// "live — last upload 12 s ago", or "last upload 5 min ago" once no longer live.
[[nodiscard]] std::string describeUpload(const ScannerLive& scanner);
// "12 s", "5 min", "3 h", "2 d" (rounded down).
[[nodiscard]] std::string formatAge(std::int64_t seconds);

// {"synced":..,"live":..,"version":"..","windowSeconds":30,"refreshSeconds":5,
//  "scanners":[{"scannerId":..,"lastUploadAt":..,"secondsAgo":..,"live":..,"text":..}]}
[[nodiscard]] std::string renderLiveJson(const LiveStatus& status, std::chrono::seconds window = kLiveWindow,
                                         std::chrono::seconds refresh = kLiveRefresh);

}  // namespace attendance::admin_web
