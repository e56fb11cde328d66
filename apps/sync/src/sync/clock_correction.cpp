#include "sync/clock_correction.hpp"

#include <ctime>
#include <fstream>
#include <sys/timex.h>

namespace attendance::sync {

TimeDecision decideCheckInTime(const jsonl_log::CheckIn& record, const ClockContext& context) noexcept {
  TimeDecision d{TimeVerdict::asLogged, record.checkInTime, {}};
  if (context.anchor && record.bootId && record.bootMs && *record.bootId == context.anchor->bootId) {
    const std::int64_t trueTime = *record.bootMs + context.anchor->wallMinusBootMs;
    const std::int64_t diff =
        trueTime > record.checkInTime ? trueTime - record.checkInTime : record.checkInTime - trueTime;
    if (diff > context.toleranceMs) {
      d.verdict = TimeVerdict::corrected;
      d.checkInTime = trueTime;
    }
  }
  if (d.checkInTime < kMinPlausibleEpochMs) {
    d.verdict = TimeVerdict::implausible;
    d.reason = "checkInTime before 2020-01-01 and not correctable (clock was not set; record from another boot)";
  } else if (d.checkInTime > context.nowWallMs + context.futureSlackMs) {
    d.verdict = TimeVerdict::implausible;
    d.reason = "checkInTime in the future and not correctable";
  }
  return d;
}

ClockAnchor makeAnchor(std::string bootId, std::int64_t nowWallMs, std::int64_t nowBootMs) {
  return ClockAnchor{std::move(bootId), nowWallMs - nowBootMs};
}

std::optional<std::string> readBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  if (!(in >> id) || id.empty()) return std::nullopt;
  return id;
}

std::int64_t readBootTimeMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool kernelClockSynchronized() {
  timex tx{};
  const int state = ::adjtimex(&tx);
  return state != -1 && state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

}  // namespace attendance::sync
