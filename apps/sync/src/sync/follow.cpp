#include "sync/follow.hpp"

#include "sync/fd.hpp"
#include "sync/messages.hpp"
#include "sync/phases.hpp"

#include <attendance/jsonl_log/durable_mark.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>

namespace attendance::sync {

namespace jl = attendance::jsonl_log;
using namespace std::chrono_literals;

namespace {

bool stopRequested(const Environment& env) { return env.stopRequested && env.stopRequested(); }

// What one round found. `waiting` says why nothing could be read yet (said once).
struct Round {
  bool stopped = false;
  std::string waiting;
};

// How much of the log the scanner has made durable, or why that is not known yet.
RunResult<std::uint64_t> durableEnd(const SyncOptions& o, int fd) {
  auto mark = jl::readDurableMark(jl::durableMarkPathFor(o.log));
  if (!mark) return RunError{kExitNetwork, mark.error().message};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return RunError{kExitNetwork, "cannot stat " + o.log.string()};
  if (!*mark || (*mark)->device != static_cast<std::uint64_t>(st.st_dev) ||
      (*mark)->inode != static_cast<std::uint64_t>(st.st_ino)) {
    // No mark, or the mark of a log since replaced: nothing is known to be durable.
    return RunError{kExitNetwork, "no durable-offset mark " + jl::durableMarkPathFor(o.log).string() +
                                      " for this log yet (is our scanner writing it?)"};
  }
  return (*mark)->offset;
}

// One pass: from the checkpoint to the durable end, exactly like runSync's upload.
RunResult<Round> followRound(const SyncOptions& o, Environment& env, const std::optional<Target>& target) {
  Fd fd{::open(o.log.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) return Round{false, "cannot open the log " + o.log.string() + ": " + std::strerror(errno)};
  auto end = durableEnd(o, fd.fd);
  if (!end) return Round{false, end.error().message};
  auto identity = identify(fd.fd);
  if (!identity) return Round{false, "cannot read the log " + o.log.string() + ": " + identity.error().message()};
  // The checkpoint records how far the durable part went, not what lies beyond it.
  identity->size = std::min(identity->size, *end);
  const auto checkpointPath = checkpointPathFor(o.log);
  const Resume start = findStart(o, env, checkpointPath, *identity);
  if (start.offset >= identity->size) return Round{};
  if (auto checked = checkEvents(o, env, fd.fd, start, identity->size); !checked) return checked.error();
  auto plan = planUpload(o, env, checkpointPath, *identity, start);
  if (!plan) return plan.error();

  Upload upload(o, env, target, std::move(*plan), identity->size);
  auto sent = upload.sendLog(fd.fd);
  if (sent) sent = upload.checkpointRest();
  upload.finishProgress(sent.has_value());
  const SyncSummary s = upload.summary();
  if (s.sent > 0 || s.badLines > 0 || s.implausible > 0) {
    note(env, "sent " + groupDigits(s.sent) + " records (" + groupDigits(s.inserted) + " inserted, " +
                  groupDigits(s.duplicates) + " duplicates, " + groupDigits(s.rejected) + " rejected)" +
                  (s.anythingNotAccepted() ? "; not accepted: " + groupDigits(s.badLines) + " bad lines, " +
                                                 groupDigits(s.implausible) + " implausible times"
                                           : ""));
    for (const auto& p : s.problems) note(env, "  line " + std::to_string(p.lineNumber) + ": " + p.what);
  }
  if (!sent) return sent.error();
  return Round{upload.stopped(), {}};
}

// Waits `d`, in steps short enough to notice a request to stop.
void waitOrStop(Environment& env, std::chrono::milliseconds d) {
  while (d > 0ms && !stopRequested(env)) {
    const auto step = std::min<std::chrono::milliseconds>(d, 250ms);
    env.clock.sleepFor(step);
    d -= step;
  }
}

std::string seconds(std::chrono::milliseconds d) {
  const auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

}  // namespace

std::chrono::milliseconds followWait(std::chrono::milliseconds interval, unsigned failures) noexcept {
  if (failures == 0) return interval;
  const unsigned doublings = std::min(failures - 1, 20u);
  return std::min(interval, std::chrono::milliseconds{1000LL << doublings});
}

int runFollow(const SyncOptions& o, Environment& env) {
  useRealMachine(env);
  if (o.dryRun || o.all || o.stopScanner) {
    fail(env, "--follow cannot be combined with --dry-run, --all or --stop-scanner");
    return kExitUsage;
  }
  if (auto checked = checkOptions(o); !checked) {
    fail(env, checked.error().message);
    return kExitUsage;
  }
  auto target = checkTarget(o);
  if (!target) {
    fail(env, target.error().message);
    return target.error().exitCode;
  }
  note(env, "following " + o.log.string() + " every " + seconds(o.interval) +
                ": uploading what the scanner has made durable (stop with SIGTERM or Ctrl-C)");
  unsigned failures = 0;
  std::string waitingFor;
  std::string lastFailure;
  bool firstRound = true;
  while (!stopRequested(env)) {
    // The first round says what a run says (the clock note); later ones only what they did.
    env.quiet = !firstRound;
    auto round = followRound(o, env, *target);
    firstRound = false;
    if (!round) {
      if (round.error().exitCode == kExitUsage) {
        fail(env, round.error().message);
        return kExitUsage;
      }
      ++failures;
      const std::string again = "trying again in " + seconds(followWait(o.interval, failures));
      if (round.error().message == lastFailure) {
        // The whole story once; then one short line per round.
        note(env, "upload failed again (" + std::to_string(failures) + " times in a row), " + again);
      } else {
        note(env, "upload failed, " + again +
                      " (nothing is lost; acknowledged batches are in the checkpoint): " + round.error().message);
        lastFailure = round.error().message;
      }
    } else {
      if (failures > 0) note(env, "the backend answers again; caught up");
      failures = 0;
      lastFailure.clear();
      if (!round->waiting.empty() && round->waiting != waitingFor) note(env, "waiting: " + round->waiting);
      waitingFor = round->waiting;
      if (round->stopped) break;
    }
    waitOrStop(env, followWait(o.interval, failures));
  }
  note(env, "stopped on request");
  return kExitOk;
}

}  // namespace attendance::sync
