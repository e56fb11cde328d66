#pragma once

#include "sync/batch.hpp"
#include "sync/checkpoint.hpp"
#include "sync/clock_correction.hpp"
#include "sync/progress.hpp"
#include "sync/run.hpp"
#include "sync/run_error.hpp"
#include "sync/summary.hpp"

#include <attendance/batch_client/client.hpp>
#include <attendance/batch_client/endpoint.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

// The sending phase of runSync (docs/sync.md, "How a run works", steps 4-7): stream
// the unsent part of the log, correct times, batch per event, send each batch and
// move the checkpoint after each acknowledgement.
namespace attendance::sync {

// Where the backend is and the key to show it; none in a dry run.
struct Target {
  batch_client::Endpoint endpoint;
  std::string apiKey;
};

// What the phases before the upload decided.
struct UploadStart {
  std::filesystem::path checkpointPath;
  Checkpoint checkpoint;  // the log's identity, where to start (offset, nextLine), the clock anchor
  ClockContext clock;
};

class Upload {
public:
  Upload(const SyncOptions& options, Environment& env, const std::optional<Target>& target, UploadStart start,
         std::uint64_t logSize);

  // Reads the log (through `fd`) from the start to `logSize` (no line ending after it)
  // and sends every batch; stops at the first failure (the progress line is finished
  // then), or after the batch during which the environment asked to stop (stopped()).
  [[nodiscard]] RunResult<void> sendLog(int fd);
  // Moves the checkpoint past trailing bad or implausible lines, so that they are
  // reported once, not on every run. Not in a dry run, nor after stopped().
  [[nodiscard]] RunResult<void> checkpointRest();
  // The last progress update (when the upload went through) and the end of its line.
  void finishProgress(bool completed);

  // The environment asked to stop; the batches not yet sent are after the checkpoint.
  [[nodiscard]] bool stopped() const noexcept { return stopped_; }
  // What was read, sent and accepted.
  [[nodiscard]] SyncSummary summary() const;

private:
  [[nodiscard]] RunResult<void> send(Batch& batch);
  // Sends a request again while the backend finds it corrupted on the way, up to --retries copies.
  [[nodiscard]] RunResult<batch_client::Response> sendVerified(const Batch& batch,
                                                               const batch_client::Request& request);
  [[nodiscard]] RunResult<void> writeCheckpoint(std::string_view afterwards);

  const SyncOptions& options_;
  Environment& env_;
  const std::optional<Target>& target_;
  std::optional<batch_client::BatchClient> client_;
  std::filesystem::path checkpointPath_;
  Checkpoint checkpoint_;
  ClockContext clock_;
  std::uint64_t startOffset_;
  std::uint64_t endOffset_;
  bool stopped_ = false;
  std::uint64_t processedOffset_;
  std::uint64_t processedLine_;
  SyncSummary summary_;
  Batcher batcher_;
  Progress progress_;
};

}  // namespace attendance::sync
