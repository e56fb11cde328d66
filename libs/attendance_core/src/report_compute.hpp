#pragma once

// The pure half of the report: rows from the database in, numbers out.
#include <attendance/attendance_core/report.hpp>

#include <string>
#include <vector>

namespace attendance::core::detail {

struct ReportInput {
  Event event;
  TimePoint now;
  bool synced = false;

  struct Person {
    std::string userId;
    std::string displayName;
    std::string email;
    support::Uuid bleUuid;  // current
    bool registered = false;
  };
  std::vector<Person> people;  // registered users and users seen (through any of their bleUuids)

  struct Owner {
    support::Uuid bleUuid;  // current or retired
    std::string userId;
  };
  std::vector<Owner> owners;

  struct Seen {
    support::Uuid bleUuid;
    std::int64_t firstMs = 0;
    std::int64_t lastMs = 0;
    std::int64_t count = 0;
    std::vector<std::string> scanners;
  };
  std::vector<Seen> seen;  // one per distinct bleUuid in check_ins

  std::vector<ScannerRow> scanners;
};

// At most this many arrival buckets; wider spans get wider buckets.
inline constexpr std::int64_t kMaxArrivalBuckets = 2000;

EventReport computeReport(const ReportInput& input, const ReportOptions& options);

}  // namespace attendance::core::detail
