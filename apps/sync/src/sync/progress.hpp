#pragma once

#include "sync/run.hpp"

#include <chrono>
#include <cstdint>

namespace attendance::sync {

// The progress display on stderr: a bar redrawn at most every 200 ms on a terminal,
// or a plain line at most once a second into a file or pipe (docs/sync.md).
class Progress {
public:
  Progress(Environment& env, std::uint64_t totalBytes);

  // `force` shows it even if the last one was shown just now (the final state).
  void update(std::uint64_t records, std::uint64_t bytesDone, bool force);
  // Ends the bar's line, before an error or the summary.
  void finish();

private:
  Environment& env_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false;
  bool drawn_ = false;
};

}  // namespace attendance::sync
