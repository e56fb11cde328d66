#pragma once

#include <attendance/jsonl_log/check_in.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Correcting check-in times written while the Pi's wall clock was wrong
// (no real-time clock, booted offline). docs/sync.md "Clock correction" has the rule.
namespace attendance::sync {

// 2020-01-01T00:00:00Z: nothing of this system existed before; the backend uses the same floor.
inline constexpr std::int64_t kMinPlausibleEpochMs = 1'577'836'800'000;

// The relation between the wall clock and CLOCK_BOOTTIME for one boot, measured
// once while the wall clock was trustworthy: wall = bootMs + wallMinusBootMs.
// Persisted in the checkpoint so every later run (after a crash, say) corrects a
// record to exactly the same millisecond — the natural key stays stable.
struct ClockAnchor {
  std::string bootId;
  std::int64_t wallMinusBootMs = 0;
  friend bool operator==(const ClockAnchor&, const ClockAnchor&) = default;
};

struct ClockContext {
  std::optional<ClockAnchor> anchor;  // only when the wall clock is trusted now
  std::int64_t nowWallMs = 0;
  // Logged times within this distance of the corrected time are kept as logged:
  // the clock was right at the sighting, and keeping the original value keeps
  // records identical to what an earlier sync may already have sent.
  std::int64_t toleranceMs = 60'000;
  // How far in the future (relative to now) a time may be before it is implausible.
  std::int64_t futureSlackMs = 5 * 60'000;
};

enum class TimeVerdict {
  asLogged,     // sent with the logged checkInTime
  corrected,    // sent with checkInTime derived from bootMs
  implausible,  // reported, not sent
};

struct TimeDecision {
  TimeVerdict verdict = TimeVerdict::asLogged;
  std::int64_t checkInTime = 0;
  std::string_view reason;  // for implausible: why
};

// Pure. The rule:
//  1. If the context has an anchor (wall clock trusted now) and the record carries
//     the same bootId and a bootMs, the true time is bootMs + wallMinusBootMs. If the
//     logged time is further than toleranceMs from it, the corrected time is used.
//  2. Otherwise the logged time is used as it is.
//  3. A time (after step 1 or 2) before 2020-01-01 or more than futureSlackMs after
//     now is implausible: reported, never sent.
[[nodiscard]] TimeDecision decideCheckInTime(const jsonl_log::CheckIn& record, const ClockContext& context) noexcept;

// The anchor from the current clocks: wallMinusBootMs = nowWallMs - nowBootMs.
[[nodiscard]] ClockAnchor makeAnchor(std::string bootId, std::int64_t nowWallMs, std::int64_t nowBootMs);

// Reading the machine (not pure): the kernel boot id, CLOCK_BOOTTIME in ms, and whether
// the kernel says the wall clock is synchronised (adjtimex: no STA_UNSYNC, not TIME_ERROR).
[[nodiscard]] std::optional<std::string> readBootId();
[[nodiscard]] std::int64_t readBootTimeMs();
[[nodiscard]] bool kernelClockSynchronized();

}  // namespace attendance::sync
