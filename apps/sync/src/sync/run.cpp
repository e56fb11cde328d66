#include "sync/run.hpp"

#include "sync/checkpoint.hpp"
#include "sync/clock_correction.hpp"
#include "sync/event_rule.hpp"
#include "sync/follow.hpp"
#include "sync/fd.hpp"
#include "sync/log_lock.hpp"
#include "sync/messages.hpp"
#include "sync/phases.hpp"
#include "sync/summary.hpp"
#include "sync/upload.hpp"

#include <attendance/jsonl_log/reader.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

// runSync, phase by phase (docs/sync.md, "How a run works"): check the command, open
// and lock the log, find where to resume, check every line's event, fix the clock
// correction, upload (upload.cpp), conclude. Each phase that can refuse the run
// returns a RunError, which runSync prints once.
namespace attendance::sync {

namespace bc = attendance::batch_client;
namespace jl = attendance::jsonl_log;

namespace {

RunError usage(std::string message) { return RunError{kExitUsage, std::move(message)}; }

struct OpenLog {
  Fd fd;
  LogIdentity identity;
};

// Opens the log, takes its writer lock for the whole run (log_lock.hpp) and reads
// which file it is (for the checkpoint).
RunResult<OpenLog> openLog(const SyncOptions& o, Environment& env) {
  Fd fd{::open(o.log.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) return usage("cannot open the log " + o.log.string() + ": " + std::strerror(errno));
  if (auto locked = lockLog(o, env, fd.fd); !locked) return locked.error();
  auto identity = identify(fd.fd);
  if (!identity) {
    return RunError{kExitNetwork, "cannot read the log " + o.log.string() + ": " + identity.error().message()};
  }
  return OpenLog{std::move(fd), *identity};
}

// The summary table and the exit code of a run that got as far as the upload.
int conclude(const SyncSummary& summary, std::optional<int> stoppedWith, bool dryRun, Environment& env) {
  env.out << renderSummary(summary, dryRun);
  if (stoppedWith) {
    env.out << "\nSync stopped early (exit " << *stoppedWith << ").\n";
    return *stoppedWith;
  }
  if (summary.records == 0 && summary.badLines == 0) {
    env.out << "\nNothing to sync: no records after the checkpoint.\n";
    return kExitOk;
  }
  if (summary.anythingNotAccepted()) {
    env.out << "\nFinished, but " << groupDigits(summary.badLines + summary.implausible + summary.rejected)
            << " lines or records were not accepted (see Problems above).\n";
    return kExitRejected;
  }
  env.out << (dryRun ? "\nDry run complete: every record would be sent.\n" : "\nAll records accepted.\n");
  return kExitOk;
}

}  // namespace

RunResult<void> checkOptions(const SyncOptions& o) {
  if (o.batchSize == 0 || o.batchSize > 100'000) return usage("--batch-size must be between 1 and 100000");
  if (o.eventId && (o.eventId->empty() || o.eventId->size() > jl::kMaxIdBytes)) {
    return usage("--event ID must be 1 to 256 bytes");
  }
  return {};
}

RunResult<std::optional<Target>> checkTarget(const SyncOptions& o) {
  if (o.dryRun && o.backendUrl.empty()) return std::optional<Target>{};
  if (o.backendUrl.empty()) return usage("--backend URL is required");
  auto endpoint = endpointFor(o.backendUrl, o.insecureHttp);
  if (!endpoint) return endpoint.error();
  if (o.dryRun) return std::optional<Target>{};
  if (o.apiKeyFile.empty()) return usage("--api-key-file FILE is required");
  auto key = readApiKeyFile(o.apiKeyFile);
  if (!key) return key.error();
  if (!o.caFile.empty() && ::access(o.caFile.c_str(), R_OK) != 0) {
    return usage("cannot read --ca-file " + o.caFile + ": " + std::strerror(errno));
  }
  return std::optional<Target>{Target{std::move(*endpoint), std::move(*key)}};
}

Resume findStart(const SyncOptions& o, Environment& env, const std::filesystem::path& checkpointPath,
                 const LogIdentity& identity) {
  Resume start;
  auto loaded = loadCheckpoint(checkpointPath);
  if (!loaded) {
    note(env, "ignoring the unreadable checkpoint " + checkpointPath.string() + " (" + loaded.error().message() +
                  "); starting from the beginning (the backend ignores records it already has)");
  } else if (*loaded) {
    const Checkpoint& cp = **loaded;
    start.anchor = cp.clock;
    if (o.all) {
      note(env, "--all: resending the whole log (the backend counts what it already has as duplicates)");
    } else if (sameLog(cp.log, identity)) {
      start.offset = cp.offset;
      start.line = cp.nextLine;
    } else {
      note(env, "the log was replaced or truncated since the last sync; starting from the beginning");
    }
  }
  return start;
}

RunResult<void> checkEvents(const SyncOptions& o, Environment& env, int fd, const Resume& start, std::uint64_t end) {
  auto events = scanEvents(fd, jl::ReaderOptions{start.offset, start.line}, o.eventId, end);
  if (!events) return RunError{kExitNetwork, "reading " + o.log.string() + " failed: " + events.error().message};
  if (events->conflict) return usage(describeConflict(*events->conflict, o.eventId) + " Nothing was sent.");
  if (events->supplied > 0) {
    note(env, groupDigits(events->supplied) + " lines without eventId belong to event " + *o.eventId + " (--event)");
  }
  return {};
}

RunResult<UploadStart> planUpload(const SyncOptions& o, Environment& env, std::filesystem::path checkpointPath,
                                  const LogIdentity& identity, Resume start) {
  const auto currentBoot = env.bootId();
  const std::int64_t nowWall = support::toEpochMillis(env.clock.systemTime());
  auto& anchor = start.anchor;
  if (anchor && (!currentBoot || anchor->bootId != *currentBoot)) anchor.reset();
  bool anchorIsNew = false;
  if (!anchor && currentBoot && (o.trustClock || env.clockSynchronized())) {
    anchor = makeAnchor(*currentBoot, nowWall, env.bootTimeMs());
    anchorIsNew = true;
  }
  UploadStart plan;
  plan.clock.anchor = anchor;
  plan.clock.nowWallMs = nowWall;
  if (!anchor && !env.quiet) {
    note(env,
         "the wall clock is not known to be synchronised (pass --trust-clock if it is): check-in times are "
         "sent as logged, implausible ones are reported");
  }
  plan.checkpoint.log = identity;
  plan.checkpoint.offset = start.offset;
  plan.checkpoint.nextLine = start.line;
  plan.checkpoint.clock = anchor;
  if (!o.dryRun && anchorIsNew) {
    if (auto saved = saveCheckpoint(checkpointPath, plan.checkpoint); !saved) {
      return usage("cannot write the checkpoint " + checkpointPath.string() + ": " + saved.error().message());
    }
  }
  plan.checkpointPath = std::move(checkpointPath);
  return plan;
}

void useRealMachine(Environment& env) {
  if (!env.bootId) env.bootId = [] { return readBootId(); };
  if (!env.bootTimeMs) env.bootTimeMs = [] { return readBootTimeMs(); };
  if (!env.clockSynchronized) env.clockSynchronized = [] { return kernelClockSynchronized(); };
}

int runSync(const SyncOptions& o, Environment& env) {
  if (o.follow) return runFollow(o, env);
  useRealMachine(env);
  const auto stop = [&env](const RunError& error) {
    fail(env, error.message);
    return error.exitCode;
  };
  if (auto checked = checkOptions(o); !checked) return stop(checked.error());
  auto target = checkTarget(o);
  if (!target) return stop(target.error());
  auto log = openLog(o, env);
  if (!log) return stop(log.error());
  const LogIdentity& identity = log->identity;
  if (identity.size == 0) {
    env.out << "Nothing to sync: the log " << o.log.string() << " is empty.\n";
    return kExitOk;
  }

  const auto checkpointPath = checkpointPathFor(o.log);
  const Resume start = findStart(o, env, checkpointPath, identity);
  if (start.offset >= identity.size) {
    env.out << "Nothing to sync: all " << groupDigits(identity.size) << " bytes of " << o.log.string()
            << " were synced already (use --all to resend).\n";
    return kExitOk;
  }
  if (auto checked = checkEvents(o, env, log->fd.fd, start); !checked) return stop(checked.error());
  auto plan = planUpload(o, env, checkpointPath, identity, start);
  if (!plan) return stop(plan.error());

  Upload upload(o, env, *target, std::move(*plan), identity.size);
  auto sent = upload.sendLog(log->fd.fd);
  if (sent) sent = upload.checkpointRest();
  if (!sent) fail(env, sent.error().message);
  upload.finishProgress(sent.has_value());
  return conclude(upload.summary(), sent ? std::nullopt : std::optional<int>{sent.error().exitCode}, o.dryRun, env);
}

}  // namespace attendance::sync
