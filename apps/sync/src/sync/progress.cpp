#include "sync/progress.hpp"

#include "sync/summary.hpp"

namespace attendance::sync {

using namespace std::chrono_literals;

Progress::Progress(Environment& env, std::uint64_t totalBytes)
    : env_(env), total_(totalBytes), start_(env.clock.monotonicTime()) {}

void Progress::update(std::uint64_t records, std::uint64_t bytesDone, bool force) {
  if (env_.quiet) return;
  const auto now = env_.clock.monotonicTime();
  const auto interval = env_.progressIsTty ? 200ms : 1000ms;
  if (!force && shown_ && now - last_ < interval) return;
  last_ = now;
  shown_ = true;
  ProgressSnapshot p{records, bytesDone, total_, std::chrono::duration_cast<std::chrono::milliseconds>(now - start_)};
  if (env_.progressIsTty) {
    env_.err << "\r" << formatProgressBar(p) << "\x1b[K" << std::flush;
    drawn_ = true;
  } else {
    env_.err << "attendance-sync: " << formatProgressLine(p) << "\n";
  }
}

void Progress::finish() {
  if (drawn_) env_.err << "\n";
  drawn_ = false;
}

}  // namespace attendance::sync
