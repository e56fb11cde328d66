#pragma once

#include "sync/batch.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

// What a sync did, for the table at the end and the exit code. Pure.
namespace attendance::sync {

enum ExitCode : int {
  kExitOk = 0,             // everything read was accepted (or there was nothing to sync)
  kExitUsage = 2,          // usage or configuration error (flags, files, URL, certificates)
  kExitRejected = 3,       // finished, but some lines/records were not accepted
  kExitNetwork = 4,        // network or server failure; safe to run again
  kExitAuth = 5,           // the backend refused the API key
  kExitScannerRunning = 6  // a scanner holds the log's lock (use --stop-scanner)
};

struct EventTotals {
  std::uint64_t batches = 0;
  std::uint64_t sent = 0;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
};

struct Problem {
  std::uint64_t lineNumber = 0;
  std::string what;
};

struct SyncSummary {
  std::uint64_t linesRead = 0;
  std::uint64_t badLines = 0;
  std::uint64_t records = 0;      // valid records read
  std::uint64_t corrected = 0;    // clock-corrected times
  std::uint64_t implausible = 0;  // not sent
  std::uint64_t sent = 0;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  std::uint64_t bytesRead = 0;
  bool incompleteLastLine = false;
  std::map<std::string, std::uint64_t> rejectedByReason;
  std::map<std::string, EventTotals> perEvent;
  // The first few problems with their line numbers (bad lines, implausible times,
  // rejections); the counts above are complete.
  std::vector<Problem> problems;
  static constexpr std::size_t kMaxProblemsListed = 20;

  void noteProblem(std::uint64_t lineNumber, std::string what);
  // Adds a batch that would be sent (dry run) or was acknowledged (ack != nullptr).
  void addBatch(const Batch& batch, const BatchAck* ack);
  [[nodiscard]] bool anythingNotAccepted() const noexcept { return badLines > 0 || implausible > 0 || rejected > 0; }
};

// The summary table (plain text, aligned; no colours so it reads well in logs).
[[nodiscard]] std::string renderSummary(const SyncSummary& summary, bool dryRun);

// Thousands separators: 1234567 -> "1,234,567".
[[nodiscard]] std::string groupDigits(std::uint64_t n);

struct ProgressSnapshot {
  std::uint64_t records = 0;     // records sent (or read in a dry run)
  std::uint64_t bytesDone = 0;   // log bytes processed
  std::uint64_t bytesTotal = 0;  // log bytes to process in this run
  std::chrono::milliseconds elapsed{0};
};

// "[##########----------]  50%  12,345 records  1.2/2.4 MB  8,000 rec/s  ETA 2s"
[[nodiscard]] std::string formatProgressBar(const ProgressSnapshot& p, std::size_t barWidth = 24);
// "processed 12,345 records, 1.2/2.4 MB (50%)" for logs and pipes.
[[nodiscard]] std::string formatProgressLine(const ProgressSnapshot& p);

}  // namespace attendance::sync
