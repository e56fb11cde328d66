#include "sync/summary.hpp"

#include <algorithm>
#include <cstdio>

#include <attendance/support/utf8.hpp>

namespace attendance::sync {

std::string groupDigits(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void SyncSummary::noteProblem(std::uint64_t lineNumber, std::string what) {
  if (problems.size() < kMaxProblemsListed) problems.push_back(Problem{lineNumber, std::move(what)});
}

void SyncSummary::addBatch(const Batch& batch, const BatchAck* ack) {
  auto& e = perEvent[batch.eventId];
  e.batches += 1;
  e.sent += batch.size();
  sent += batch.size();
  if (ack == nullptr) return;
  e.inserted += ack->inserted;
  e.duplicates += ack->duplicates;
  e.rejected += ack->rejected.size();
  inserted += ack->inserted;
  duplicates += ack->duplicates;
  rejected += ack->rejected.size();
  for (const auto& r : ack->rejected) {
    rejectedByReason[r.reason] += 1;
    const std::uint64_t line = r.index < batch.lineNumbers.size() ? batch.lineNumbers[r.index] : 0;
    noteProblem(line, "rejected by the backend: " + r.reason);
  }
}

namespace {

void row(std::string& out, std::string_view label, std::uint64_t value) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "  %-22.*s %14s\n", static_cast<int>(label.size()), label.data(),
                groupDigits(value).c_str());
  out += buf;
}

std::string cell(std::string_view text, std::size_t width, bool right) {
  std::string t(support::utf8Prefix(text, width));
  std::string pad(width - t.size(), ' ');
  return right ? pad + t : t + pad;
}

std::string megabytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

std::string renderSummary(const SyncSummary& s, bool dryRun) {
  std::string out = dryRun ? "Dry run: nothing was sent\n" : "Sync summary\n";
  row(out, "lines read", s.linesRead);
  row(out, "bad lines (skipped)", s.badLines);
  row(out, "records", s.records);
  row(out, "times corrected", s.corrected);
  row(out, "implausible times", s.implausible);
  row(out, dryRun ? "records to send" : "records sent", s.sent);
  if (!dryRun) {
    row(out, "inserted", s.inserted);
    row(out, "duplicates", s.duplicates);
    row(out, "rejected", s.rejected);
  }
  if (!s.perEvent.empty()) {
    std::size_t width = 5;
    for (const auto& [id, totals] : s.perEvent) width = std::max(width, std::min<std::size_t>(id.size(), 40));
    out += "\nPer event\n  " + cell("event", width, false) + " " + cell("batches", 8, true) + " " +
           cell(dryRun ? "to send" : "sent", 10, true);
    if (!dryRun)
      out += " " + cell("inserted", 10, true) + " " + cell("duplicates", 10, true) + " " + cell("rejected", 9, true);
    out += "\n";
    for (const auto& [id, t] : s.perEvent) {
      out += "  " + cell(id, width, false) + " " + cell(groupDigits(t.batches), 8, true) + " " +
             cell(groupDigits(t.sent), 10, true);
      if (!dryRun) {
        out += " " + cell(groupDigits(t.inserted), 10, true) + " " + cell(groupDigits(t.duplicates), 10, true) + " " +
               cell(groupDigits(t.rejected), 9, true);
      }
      out += "\n";
    }
  }
  if (!s.rejectedByReason.empty()) {
    out += "\nRejected by reason\n";
    for (const auto& [reason, n] : s.rejectedByReason) {
      out += "  " + cell(groupDigits(n), 10, true) + "  " + reason + "\n";
    }
  }
  if (!s.problems.empty()) {
    out += "\nProblems (first " + std::to_string(s.problems.size()) + ")\n";
    for (const auto& p : s.problems) out += "  line " + std::to_string(p.lineNumber) + ": " + p.what + "\n";
  }
  return out;
}

std::string formatProgressBar(const ProgressSnapshot& p, std::size_t barWidth) {
  const double fraction =
      p.bytesTotal == 0 ? 1.0 : std::min(1.0, static_cast<double>(p.bytesDone) / static_cast<double>(p.bytesTotal));
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(barWidth));
  std::string out = "[" + std::string(filled, '#') + std::string(barWidth - filled, '-') + "] ";
  char buf[160];
  const double seconds = static_cast<double>(p.elapsed.count()) / 1000.0;
  const double rate = seconds > 0 ? static_cast<double>(p.records) / seconds : 0.0;
  std::string eta = "--";
  if (seconds > 0 && p.bytesDone > 0 && p.bytesDone < p.bytesTotal) {
    const double remaining =
        seconds * static_cast<double>(p.bytesTotal - p.bytesDone) / static_cast<double>(p.bytesDone);
    eta = std::to_string(static_cast<long long>(remaining + 0.5)) + "s";
  } else if (p.bytesDone >= p.bytesTotal) {
    eta = "0s";
  }
  std::snprintf(buf, sizeof buf, "%3d%%  %s records  %s/%s MB  %s rec/s  ETA %s", static_cast<int>(fraction * 100),
                groupDigits(p.records).c_str(), megabytes(p.bytesDone).c_str(), megabytes(p.bytesTotal).c_str(),
                groupDigits(static_cast<std::uint64_t>(rate)).c_str(), eta.c_str());
  return out + buf;
}

std::string formatProgressLine(const ProgressSnapshot& p) {
  const int percent =
      p.bytesTotal == 0 ? 100 : static_cast<int>(std::min<std::uint64_t>(100, p.bytesDone * 100 / p.bytesTotal));
  return "processed " + groupDigits(p.records) + " records, " + megabytes(p.bytesDone) + "/" + megabytes(p.bytesTotal) +
         " MB (" + std::to_string(percent) + "%)";
}

}  // namespace attendance::sync
