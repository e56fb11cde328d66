#include "sync/run.hpp"

#include "sync/batch.hpp"
#include "sync/checkpoint.hpp"
#include "sync/clock_correction.hpp"
#include "sync/diagnosis.hpp"
#include "sync/event_rule.hpp"
#include "sync/log_lock.hpp"
#include "sync/messages.hpp"
#include "sync/summary.hpp"

#include <attendance/batch_client/content_digest.hpp>
#include <attendance/batch_client/endpoint.hpp>
#include <attendance/jsonl_log/reader.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attendance::sync {

namespace bc = attendance::batch_client;
namespace jl = attendance::jsonl_log;
using namespace std::chrono_literals;

namespace {

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

class Progress {
public:
  Progress(Environment& env, std::uint64_t total) : env_(env), total_(total), start_(env.clock.monotonicTime()) {}

  void update(std::uint64_t records, std::uint64_t done, bool force) {
    const auto now = env_.clock.monotonicTime();
    const auto interval = env_.progressIsTty ? 200ms : 1000ms;
    if (!force && shown_ && now - last_ < interval) return;
    last_ = now;
    shown_ = true;
    ProgressSnapshot p{records, done, total_,
                       std::chrono::duration_cast<std::chrono::milliseconds>(now - start_)};
    if (env_.progressIsTty) {
      env_.err << "\r" << formatProgressBar(p) << "\x1b[K" << std::flush;
      drawn_ = true;
    } else {
      env_.err << "attendance-sync: " << formatProgressLine(p) << "\n";
    }
  }
  void finish() {
    if (drawn_) env_.err << "\n";
    drawn_ = false;
  }

private:
  Environment& env_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false;
  bool drawn_ = false;
};

}  // namespace

int exitCodeFor(const bc::Failure& f) {
  switch (f.kind) {
    case bc::FailureKind::auth: return kExitAuth;
    case bc::FailureKind::tls: return kExitUsage;
    case bc::FailureKind::rejected: return f.status == 413 ? kExitUsage : kExitRejected;
    case bc::FailureKind::network:
    case bc::FailureKind::server: return kExitNetwork;
  }
  return kExitNetwork;
}

void reportFailure(Environment& env, const bc::Failure& f) {
  std::string message = f.message;
  if (!f.body.empty()) message += ": " + serverErrorText(f.body);
  switch (f.kind) {
    case bc::FailureKind::auth:
      if (f.status == 403) {
        // The key is fine; the backend names the attendance-admin command in its message.
        message += "\n  the scanner is not assigned to this event (or there is no such event): an organizer runs the "
                   "attendance-admin command above, then run the same command again (nothing was lost)";
      } else {
        message += "\n  the backend refused the API key (wrong, revoked, or for another scanner); check --api-key-file";
      }
      break;
    case bc::FailureKind::tls:
      message += "\n  fix the URL or --ca-file; nothing was sent";
      break;
    case bc::FailureKind::rejected:
      if (f.status == 413) message += "\n  the batch is larger than the backend accepts; use a smaller --batch-size";
      break;
    case bc::FailureKind::network:
    case bc::FailureKind::server:
      if (const auto what = describeAttempts(f); !what.empty()) message += "\n  what happened: " + what;
      message += "\n  nothing is lost: the backend stores a batch whole or not at all, and acknowledged batches are "
                 "recorded in the checkpoint; run the same command again";
      break;
  }
  fail(env, message);
}

bc::ClientOptions clientOptionsFor(const bc::Endpoint& endpoint, const std::string& caFile,
                                   const bc::Timeouts& timeouts, unsigned maxAttempts) {
  bc::ClientOptions co;
  co.endpoint = endpoint;
  co.caFile = caFile;
  co.timeouts = timeouts;
  co.retry.maxAttempts = maxAttempts;
  co.userAgent = "attendance-sync/0.1";
  return co;
}

std::optional<bc::Endpoint> endpointFor(const std::string& url, bool insecure, Environment& env) {
  auto ep = bc::parseEndpoint(url, insecure);
  if (!ep) {
    fail(env, ep.error().message);
    return std::nullopt;
  }
  return *ep;
}

void useRealMachine(Environment& env) {
  if (!env.bootId) env.bootId = [] { return readBootId(); };
  if (!env.bootTimeMs) env.bootTimeMs = [] { return readBootTimeMs(); };
  if (!env.clockSynchronized) env.clockSynchronized = [] { return kernelClockSynchronized(); };
}

std::optional<std::string> readApiKeyFile(const std::filesystem::path& path, std::string& error) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    error = "cannot read the API key file " + path.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string key;
  char buf[4097];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read the API key file " + path.string() + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) break;
    key.append(buf, static_cast<std::size_t>(n));
    if (key.size() > 4096) {
      error = "the API key file " + path.string() + " is larger than 4 KiB; is it the right file?";
      return std::nullopt;
    }
  }
  const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!key.empty() && isSpace(key.back())) key.pop_back();
  std::size_t lead = 0;
  while (lead < key.size() && isSpace(key[lead])) ++lead;
  key.erase(0, lead);
  if (key.empty()) {
    error = "the API key file " + path.string() + " is empty";
    return std::nullopt;
  }
  for (const char c : key) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      error = "the API key in " + path.string() + " contains whitespace or control characters";
      return std::nullopt;
    }
  }
  return key;
}

int runSync(const SyncOptions& o, Environment& env) {
  useRealMachine(env);
  if (o.batchSize == 0 || o.batchSize > 100'000) {
    fail(env, "--batch-size must be between 1 and 100000");
    return kExitUsage;
  }
  if (o.eventId && (o.eventId->empty() || o.eventId->size() > jl::kMaxIdBytes)) {
    fail(env, "--event ID must be 1 to 256 bytes");
    return kExitUsage;
  }
  // Configuration first: nothing is touched before every input is known to be usable.
  std::optional<bc::Endpoint> endpoint;
  std::string apiKey;
  if (!o.dryRun || !o.backendUrl.empty()) {
    if (o.backendUrl.empty()) {
      fail(env, "--backend URL is required");
      return kExitUsage;
    }
    endpoint = endpointFor(o.backendUrl, o.insecureHttp, env);
    if (!endpoint) return kExitUsage;
  }
  if (!o.dryRun) {
    if (o.apiKeyFile.empty()) {
      fail(env, "--api-key-file FILE is required");
      return kExitUsage;
    }
    std::string error;
    auto key = readApiKeyFile(o.apiKeyFile, error);
    if (!key) {
      fail(env, error);
      return kExitUsage;
    }
    apiKey = std::move(*key);
    if (!o.caFile.empty() && ::access(o.caFile.c_str(), R_OK) != 0) {
      fail(env, "cannot read --ca-file " + o.caFile + ": " + std::strerror(errno));
      return kExitUsage;
    }
  }

  Fd log{::open(o.log.c_str(), O_RDONLY | O_CLOEXEC)};
  if (log.fd < 0) {
    fail(env, "cannot open the log " + o.log.string() + ": " + std::strerror(errno));
    return kExitUsage;
  }
  bool locked = false;
  if (auto code = lockLog(o, env, log.fd, locked)) return *code;

  auto identity = identify(log.fd);
  if (!identity) {
    fail(env, "cannot read the log " + o.log.string() + ": " + identity.error().message());
    return kExitNetwork;
  }
  if (identity->size == 0) {
    env.out << "Nothing to sync: the log " << o.log.string() << " is empty.\n";
    return kExitOk;
  }

  // Where to start.
  const auto checkpointPath = checkpointPathFor(o.log);
  std::uint64_t startOffset = 0;
  std::uint64_t startLine = 1;
  std::optional<ClockAnchor> anchor;
  auto loaded = loadCheckpoint(checkpointPath);
  if (!loaded) {
    note(env, "ignoring the unreadable checkpoint " + checkpointPath.string() + " (" + loaded.error().message() +
                  "); starting from the beginning (the backend ignores records it already has)");
  } else if (*loaded) {
    const Checkpoint& cp = **loaded;
    anchor = cp.clock;
    if (o.all) {
      note(env, "--all: resending the whole log (the backend counts what it already has as duplicates)");
    } else if (sameLog(cp.log, *identity)) {
      startOffset = cp.offset;
      startLine = cp.nextLine;
    } else {
      note(env, "the log was replaced or truncated since the last sync; starting from the beginning");
    }
  }
  if (startOffset >= identity->size) {
    env.out << "Nothing to sync: all " << groupDigits(identity->size) << " bytes of " << o.log.string()
            << " were synced already (use --all to resend).\n";
    return kExitOk;
  }

  // Every line to send must have an event before the first batch goes out: a refusal
  // is a mistake in the command, which a rerun with the right --event fixes.
  auto events = scanEvents(log.fd, jl::ReaderOptions{startOffset, startLine}, o.eventId);
  if (!events) {
    fail(env, "reading " + o.log.string() + " failed: " + events.error().message);
    return kExitNetwork;
  }
  if (events->conflict) {
    fail(env, describeConflict(*events->conflict, o.eventId) + " Nothing was sent.");
    return kExitUsage;
  }
  if (events->supplied > 0) {
    note(env, groupDigits(events->supplied) + " lines without eventId belong to event " + *o.eventId + " (--event)");
  }

  // Clock correction context.
  const auto currentBoot = env.bootId();
  const std::int64_t nowWall = support::toEpochMillis(env.clock.systemTime());
  if (anchor && (!currentBoot || anchor->bootId != *currentBoot)) anchor.reset();
  bool anchorIsNew = false;
  if (!anchor && currentBoot && (o.trustClock || env.clockSynchronized())) {
    anchor = makeAnchor(*currentBoot, nowWall, env.bootTimeMs());
    anchorIsNew = true;
  }
  ClockContext clock;
  clock.anchor = anchor;
  clock.nowWallMs = nowWall;
  if (!anchor) {
    note(env, "the wall clock is not known to be synchronised (pass --trust-clock if it is): check-in times are "
              "sent as logged, implausible ones are reported");
  }

  Checkpoint checkpoint;
  checkpoint.log = *identity;
  checkpoint.offset = startOffset;
  checkpoint.nextLine = startLine;
  checkpoint.clock = anchor;
  if (!o.dryRun && anchorIsNew) {
    // Saved before anything is sent, so a rerun after a crash corrects identically.
    if (auto saved = saveCheckpoint(checkpointPath, checkpoint); !saved) {
      fail(env, "cannot write the checkpoint " + checkpointPath.string() + ": " + saved.error().message());
      return kExitUsage;
    }
  }

  std::optional<bc::BatchClient> client;
  if (!o.dryRun) {
    client.emplace(clientOptionsFor(*endpoint, o.caFile, o.timeouts, o.maxAttempts), env.clock, env.clientHooks);
  }

  SyncSummary summary;
  Batcher batcher(o.batchSize);
  Progress progress(env, identity->size - startOffset);
  std::uint64_t processedOffset = startOffset;
  std::uint64_t processedLine = startLine;
  std::optional<int> failure;

  const auto send = [&](Batch& batch) -> bool {
    if (o.dryRun) {
      summary.addBatch(batch, nullptr);
      return true;
    }
    bc::Request request;
    request.path = "/batchCheckIn";
    request.bearerToken = apiKey;
    request.body = std::move(batch.body);
    // The backend checks it and refuses a body changed on the way (docs/sync.md).
    request.headers.emplace_back("Content-Digest", bc::contentDigestSha256(request.body));
    auto res = client->send(request);
    // A corrupted copy was refused whole: the same bytes again, up to --retries times in all.
    const unsigned maxCopies = std::max(1u, o.maxAttempts);
    for (unsigned copies = 1; !res && isContentDigestMismatch(res.error()); ++copies) {
      const std::string lines = "lines " + std::to_string(batch.lineNumbers.front()) + "-" +
                                std::to_string(batch.lineNumbers.back());
      progress.finish();
      if (copies >= maxCopies) {
        fail(env, "the batch of " + lines + " arrived corrupted on the way to " + endpoint->origin() + " " +
                      std::to_string(copies) +
                      " times in a row (the backend found it did not match its Content-Digest and stored nothing of "
                      "it): something between this device and the backend changes the data\n  nothing is lost: "
                      "acknowledged batches are recorded in the checkpoint; run the same command again, on another "
                      "network if it happens again");
        failure = kExitNetwork;
        return false;
      }
      note(env, "the batch of " + lines + " was corrupted on the way (the backend found it did not match its "
                "Content-Digest and stored nothing of it); sending it again (copy " + std::to_string(copies + 1) +
                " of at most " + std::to_string(maxCopies) + ")");
      res = client->send(request);
    }
    if (!res) {
      progress.finish();
      reportFailure(env, res.error());
      failure = exitCodeFor(res.error());
      return false;
    }
    std::string error;
    auto ack = parseBatchAck(res->body, error);
    if (ack && ack->received != batch.size()) {
      error = "the backend acknowledged " + std::to_string(ack->received) + " records of a batch of " +
              std::to_string(batch.size());
      ack.reset();
    }
    if (!ack) {
      progress.finish();
      fail(env, "unexpected answer from " + endpoint->origin() + ": " + error + "; is --backend right?");
      failure = kExitNetwork;
      return false;
    }
    summary.addBatch(batch, &*ack);
    const auto pending = batcher.earliestPending();
    checkpoint.offset = pending ? pending->first : processedOffset;
    checkpoint.nextLine = pending ? pending->second : processedLine;
    if (auto saved = saveCheckpoint(checkpointPath, checkpoint); !saved) {
      progress.finish();
      fail(env, "cannot write the checkpoint " + checkpointPath.string() + ": " + saved.error().message() +
                    " (the batch was stored; a rerun resends it harmlessly)");
      failure = kExitUsage;
      return false;
    }
    progress.update(summary.sent, processedOffset - startOffset, false);
    return true;
  };

  jl::Reader reader = jl::Reader::fromFd(log.fd, jl::ReaderOptions{startOffset, startLine});
  jl::LogLine line;
  bool ok = true;
  while (ok) {
    auto more = reader.next(line);
    if (!more) {
      progress.finish();
      fail(env, "reading " + o.log.string() + " failed: " + more.error().message);
      failure = kExitNetwork;
      break;
    }
    if (!*more) break;
    if (!line.terminated) {
      // Only the last line can lack its '\n': torn by a crash, or still being written
      // (dry run beside a live scanner). Not sent now; the scanner's recovery completes
      // or quarantines it, and a later sync picks it up.
      summary.incompleteLastLine = true;
      summary.noteProblem(line.lineNumber, "incomplete last line (no newline): not sent");
      break;
    }
    ++summary.linesRead;
    processedOffset = line.endOffset;
    processedLine = line.lineNumber + 1;
    if (line.kind == jl::LogLine::Kind::bad) {
      ++summary.badLines;
      summary.noteProblem(line.lineNumber, "bad line skipped: " + line.error.message());
    } else if (const auto event = eventFor(line.record, o.eventId); !event) {
      // Only a line appended since scanEvents() (by a writer that ignores the lock) gets
      // here: stop before it as the check would have; acknowledged batches stay in the checkpoint.
      progress.finish();
      fail(env, describeConflict({line.lineNumber, line.record.eventId, 1}, o.eventId) +
                    " Nothing from this line on was sent.");
      failure = kExitUsage;
      break;
    } else {
      ++summary.records;
      const auto decision = decideCheckInTime(line.record, clock);
      if (decision.verdict == TimeVerdict::implausible) {
        ++summary.implausible;
        summary.noteProblem(line.lineNumber, std::string(decision.reason) + " (checkInTime " +
                                                 std::to_string(line.record.checkInTime) + "): not sent");
      } else {
        if (decision.verdict == TimeVerdict::corrected) ++summary.corrected;
        for (auto& batch : batcher.add(*event, line.record.bleUuid, decision.checkInTime,
                                       line.record.scannerId, line.lineNumber, line.startOffset)) {
          if (!(ok = send(batch))) break;
        }
      }
    }
    if (ok) progress.update(summary.sent, processedOffset - startOffset, false);
  }
  while (ok && !failure) {
    auto batch = batcher.takeOldest();
    if (!batch) break;
    ok = send(*batch);
  }
  if (!failure && !o.dryRun && (checkpoint.offset != processedOffset || checkpoint.nextLine != processedLine)) {
    // Trailing bad or implausible lines are reported once, not on every run.
    checkpoint.offset = processedOffset;
    checkpoint.nextLine = processedLine;
    if (auto saved = saveCheckpoint(checkpointPath, checkpoint); !saved) {
      fail(env, "cannot write the checkpoint " + checkpointPath.string() + ": " + saved.error().message());
      failure = kExitUsage;
    }
  }
  if (!failure) progress.update(summary.sent, processedOffset - startOffset, true);
  progress.finish();
  summary.bytesRead = processedOffset - startOffset;

  env.out << renderSummary(summary, o.dryRun);
  if (failure) {
    env.out << "\nSync stopped early (exit " << *failure << ").\n";
    return *failure;
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
  env.out << (o.dryRun ? "\nDry run complete: every record would be sent.\n" : "\nAll records accepted.\n");
  return kExitOk;
}

}  // namespace attendance::sync
