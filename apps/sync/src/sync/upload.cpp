#include "sync/upload.hpp"

#include "sync/diagnosis.hpp"
#include "sync/event_rule.hpp"
#include "sync/messages.hpp"

#include <attendance/batch_client/content_digest.hpp>
#include <attendance/jsonl_log/reader.hpp>

#include <algorithm>

namespace attendance::sync {

namespace bc = attendance::batch_client;
namespace jl = attendance::jsonl_log;

Upload::Upload(const SyncOptions& options, Environment& env, const std::optional<Target>& target, UploadStart start,
               std::uint64_t logSize)
    : options_(options),
      env_(env),
      target_(target),
      checkpointPath_(std::move(start.checkpointPath)),
      checkpoint_(std::move(start.checkpoint)),
      clock_(std::move(start.clock)),
      startOffset_(checkpoint_.offset),
      endOffset_(logSize),
      processedOffset_(checkpoint_.offset),
      processedLine_(checkpoint_.nextLine),
      batcher_(options.batchSize),
      progress_(env, logSize - checkpoint_.offset) {
  if (!options_.dryRun) {
    client_.emplace(clientOptionsFor(target_->endpoint, options_.caFile, options_.timeouts, options_.maxAttempts),
                    env_.clock, env_.clientHooks);
  }
}

RunResult<void> Upload::sendLog(int fd) {
  jl::Reader reader = jl::Reader::fromFd(fd, jl::ReaderOptions{startOffset_, checkpoint_.nextLine});
  jl::LogLine line;
  for (;;) {
    auto more = reader.next(line);
    if (!more) {
      progress_.finish();
      return RunError{kExitNetwork, "reading " + options_.log.string() + " failed: " + more.error().message};
    }
    // Past the end: appended since the run began (a live log), left for the next run.
    if (!*more || line.endOffset > endOffset_) break;
    if (!line.terminated) {
      // Only the last line can lack its '\n': torn by a crash, or still being written
      // (dry run beside a live scanner). Not sent now; the scanner's recovery completes
      // or quarantines it, and a later sync picks it up.
      summary_.incompleteLastLine = true;
      summary_.noteProblem(line.lineNumber, "incomplete last line (no newline): not sent");
      break;
    }
    ++summary_.linesRead;
    processedOffset_ = line.endOffset;
    processedLine_ = line.lineNumber + 1;
    if (line.kind == jl::LogLine::Kind::bad) {
      ++summary_.badLines;
      summary_.noteProblem(line.lineNumber, "bad line skipped: " + line.error.message());
    } else if (const auto event = eventFor(line.record, options_.eventId); !event) {
      // Only a line appended since scanEvents() (by a writer that ignores the lock) gets
      // here: stop before it as the check would have; acknowledged batches stay in the checkpoint.
      progress_.finish();
      return RunError{kExitUsage, describeConflict({line.lineNumber, line.record.eventId, 1}, options_.eventId) +
                                      " Nothing from this line on was sent."};
    } else {
      ++summary_.records;
      const auto decision = decideCheckInTime(line.record, clock_);
      if (decision.verdict == TimeVerdict::implausible) {
        ++summary_.implausible;
        summary_.noteProblem(line.lineNumber, std::string(decision.reason) + " (checkInTime " +
                                                  std::to_string(line.record.checkInTime) + "): not sent");
      } else {
        if (decision.verdict == TimeVerdict::corrected) ++summary_.corrected;
        for (auto& batch : batcher_.add(*event, line.record.bleUuid, decision.checkInTime, line.record.scannerId,
                                        line.lineNumber, line.startOffset)) {
          if (auto sent = send(batch); !sent) return sent;
          // The checkpoint never passes a batch still open, so stopping here loses nothing.
          if (env_.stopRequested && env_.stopRequested()) {
            stopped_ = true;
            progress_.finish();
            return {};
          }
        }
      }
    }
    progress_.update(summary_.sent, processedOffset_ - startOffset_, false);
  }
  while (auto batch = batcher_.takeOldest()) {
    if (auto sent = send(*batch); !sent) return sent;
  }
  return {};
}

RunResult<void> Upload::send(Batch& batch) {
  if (options_.dryRun) {
    summary_.addBatch(batch, nullptr);
    return {};
  }
  bc::Request request;
  request.path = "/batchCheckIn";
  request.bearerToken = target_->apiKey;
  request.body = std::move(batch.body);
  // The backend checks it and refuses a body changed on the way (docs/sync.md).
  request.headers.emplace_back("Content-Digest", bc::contentDigestSha256(request.body));
  auto answer = sendVerified(batch, request);
  if (!answer) {
    progress_.finish();
    return answer.error();
  }
  auto ack = parseBatchAck(answer->body);
  if (ack && ack->received != batch.size()) {
    ack = RunError{kExitNetwork, "the backend acknowledged " + std::to_string(ack->received) +
                                     " records of a batch of " + std::to_string(batch.size())};
  }
  if (!ack) {
    progress_.finish();
    return RunError{kExitNetwork, "unexpected answer from " + target_->endpoint.origin() + ": " + ack.error().message +
                                      "; is --backend right?"};
  }
  summary_.addBatch(batch, &*ack);
  const auto pending = batcher_.earliestPending();
  checkpoint_.offset = pending ? pending->first : processedOffset_;
  checkpoint_.nextLine = pending ? pending->second : processedLine_;
  if (auto saved = writeCheckpoint(" (the batch was stored; a rerun resends it harmlessly)"); !saved) {
    progress_.finish();
    return saved;
  }
  progress_.update(summary_.sent, processedOffset_ - startOffset_, false);
  return {};
}

RunResult<bc::Response> Upload::sendVerified(const Batch& batch, const bc::Request& request) {
  auto res = client_->send(request);
  // A corrupted copy was refused whole: the same bytes again, up to --retries times in all.
  const unsigned maxCopies = std::max(1u, options_.maxAttempts);
  for (unsigned copies = 1; !res && isContentDigestMismatch(res.error()); ++copies) {
    const std::string lines =
        "lines " + std::to_string(batch.lineNumbers.front()) + "-" + std::to_string(batch.lineNumbers.back());
    progress_.finish();
    if (copies >= maxCopies) {
      return RunError{kExitNetwork,
                      "the batch of " + lines + " arrived corrupted on the way to " + target_->endpoint.origin() + " " +
                          std::to_string(copies) +
                          " times in a row (the backend found it did not match its Content-Digest and stored nothing "
                          "of it): something between this device and the backend changes the data\n  nothing is "
                          "lost: acknowledged batches are recorded in the checkpoint; run the same command again, on "
                          "another network if it happens again"};
    }
    note(env_, "the batch of " + lines +
                   " was corrupted on the way (the backend found it did not match its "
                   "Content-Digest and stored nothing of it); sending it again (copy " +
                   std::to_string(copies + 1) + " of at most " + std::to_string(maxCopies) + ")");
    res = client_->send(request);
  }
  if (!res) return runErrorFor(res.error());
  return std::move(*res);
}

RunResult<void> Upload::checkpointRest() {
  if (options_.dryRun || stopped_ || (checkpoint_.offset == processedOffset_ && checkpoint_.nextLine == processedLine_))
    return {};
  checkpoint_.offset = processedOffset_;
  checkpoint_.nextLine = processedLine_;
  return writeCheckpoint("");
}

RunResult<void> Upload::writeCheckpoint(std::string_view afterwards) {
  if (auto saved = saveCheckpoint(checkpointPath_, checkpoint_); !saved) {
    return RunError{kExitUsage, "cannot write the checkpoint " + checkpointPath_.string() + ": " +
                                    saved.error().message() + std::string(afterwards)};
  }
  return {};
}

void Upload::finishProgress(bool completed) {
  if (completed) progress_.update(summary_.sent, processedOffset_ - startOffset_, true);
  progress_.finish();
}

SyncSummary Upload::summary() const {
  SyncSummary s = summary_;
  s.bytesRead = processedOffset_ - startOffset_;
  return s;
}

}  // namespace attendance::sync
