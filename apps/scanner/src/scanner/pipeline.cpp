#include "scanner/pipeline.hpp"

#include <attendance/jsonl_log/reader.hpp>
#include <attendance/support/log.hpp>

namespace attendance::scanner {
namespace {

// The distinct-id counter stops growing (and says so) beyond this: memory stays bounded.
constexpr std::size_t kMaxUniqueTracked = 200'000;

}  // namespace

Pipeline::Pipeline(PipelineOptions options, const support::TimeSource& time, const BootClock& boot,
                   jsonl_log::Writer& writer, const Roster* roster)
    : options_(std::move(options)),
      time_(&time),
      boot_(&boot),
      writer_(&writer),
      roster_(roster),
      presence_(time, options_.presence),
      // The options were checked by the scanner's configuration; value() throws at start-up otherwise.
      dedup_(dedup_cache::DedupCache::create(time, {.window = options_.dedupWindow, .capacity = options_.dedupCapacity})
                 .value()) {
  scratch_.scannerId = options_.scannerId;
  scratch_.eventId = options_.eventId;
  // Without a boot id (no /proc) bootMs could not be related to anything: leave both out.
  if (!boot.bootId().empty()) scratch_.bootId = std::string(boot.bootId());
  if (roster_ != nullptr) rosterSeen_.assign(roster_->size(), false);
  if (options_.lastSeenInterval) {
    lastSeenScratch_.scannerId = options_.scannerId;
    lastSeenScratch_.eventId = options_.eventId;
    presence_.onStayEnded([this](const Stay& s) { writeLastSeen(s); });
    nextLastSeen_ = time.monotonicTime() + *options_.lastSeenInterval;
  }
}

void Pipeline::writeLastSeen(const Stay& stay) {
  // Check-ins come first: while they wait for the log, a last-seen line (informative, and
  // superseded by the next one) is counted and let go rather than queued.
  if (fatal_ || !pending_.empty()) {
    ++counters_.lastSeenDropped;
    return;
  }
  lastSeenScratch_.bleUuid = stay.id;
  lastSeenScratch_.lastSeen = support::toEpochMillis(stay.lastSeen);
  lastSeenScratch_.firstSeen = support::toEpochMillis(stay.firstSeen);
  lastSeenScratch_.sightings = stay.sightings;
  lastSeenScratch_.left = stay.left;
  if (const auto appended = writer_->append(lastSeenScratch_); !appended) {
    ++counters_.lastSeenDropped;
    ++counters_.writeFailures;
    if (writer_->broken()) fatal_ = appended.error();
    return;
  }
  ++counters_.lastSeenWritten;
}

void Pipeline::noteLogged(const support::Uuid& id) {
  if (logged_.size() < kMaxUniqueTracked && !logged_.contains(id)) {
    logged_.insert(id);  // allocates only for a participant never logged before
    ++counters_.uniqueIds;
  }
  if (roster_ != nullptr) {
    if (const auto i = roster_->indexOf(id); i && !rosterSeen_[*i]) {
      rosterSeen_[*i] = true;
      ++counters_.rosterArrivals;
    }
  }
}

jsonl_log::Outcome<SeedReport> Pipeline::seedFromLog(const std::filesystem::path& log) {
  auto reader = jsonl_log::Reader::open(log);
  if (!reader) return reader.error();
  SeedReport report;
  jsonl_log::LogLine line;
  const auto wallNow = support::toEpochMillis(time_->systemTime());
  const auto monoNow = time_->monotonicTime();
  const auto bootNow = boot_->bootMillis();
  const auto bootId = boot_->bootId();
  const auto windowMs = options_.dedupWindow.count();
  while (true) {
    auto more = reader->next(line);
    if (!more) return more.error();
    if (!*more) break;
    if (line.kind == jsonl_log::LogLine::Kind::bad) {
      ++report.badLines;
      continue;
    }
    const auto& r = line.record;
    if (r.eventId && *r.eventId != options_.eventId) {
      ++report.otherEvents;
      continue;
    }
    // No eventId: a line of the original design's scanner. An operator who points us
    // at a log it started is going on with the same event, so the line counts as ours.
    if (!r.eventId) ++report.withoutEventId;
    ++report.records;
    noteLogged(r.bleUuid);
    std::int64_t ageMs = 0;
    if (r.bootId && r.bootMs && *r.bootId == bootId) {
      ageMs = bootNow - *r.bootMs;
    } else {
      ageMs = wallNow - r.checkInTime;
    }
    if (ageMs < 0) ageMs = 0;
    if (ageMs >= windowMs) continue;
    dedup_.seed(r.bleUuid, monoNow - std::chrono::milliseconds{ageMs});
    ++report.seeded;
  }
  counters_.seeded = report.seeded;
  return report;
}

void Pipeline::enqueue(jsonl_log::CheckIn&& record) {
  if (pending_.size() >= options_.maxPending) {
    ++counters_.dropped;
    support::log::error("scanner.checkin_dropped", {{"bleUuid", record.bleUuid.toString()},
                                                    {"checkInTime", record.checkInTime},
                                                    {"reason", "pending buffer full while the log cannot be written"},
                                                    {"maxPending", options_.maxPending}});
    return;
  }
  pending_.push_back(std::move(record));
}

Verdict Pipeline::onSighting(const support::Uuid& id, std::optional<int> rssi,
                             std::chrono::system_clock::time_point seenAt) {
  ++counters_.sightings;
  // The roster decides when there is one, so rostered bleUuids from before the namespace
  // keep working; the namespace then only tells strangers from unregistered participants.
  const bool inNamespace = !options_.bleNamespace || options_.bleNamespace->contains(id);
  if (roster_ != nullptr ? !roster_->indexOf(id) : !inNamespace) {
    if (!inNamespace) {
      ++counters_.outsideNamespace;
      return Verdict::outside_namespace;
    }
    ++counters_.notOnRoster;
    return Verdict::not_on_roster;
  }
  const auto present = presence_.onSighting(id, rssi, seenAt);
  if (!present) {
    ++counters_.notYetPresent;
    return Verdict::candidate;
  }
  if (!dedup_.admit(id)) {
    ++counters_.duplicates;
    return Verdict::duplicate;
  }
  scratch_.bleUuid = id;
  scratch_.checkInTime = support::toEpochMillis(present->checkInTime);
  scratch_.rssi = options_.recordRssi ? present->rssi : std::nullopt;
  // bootMs must name the same instant as checkInTime (the run's first sighting), or a
  // restart would age this line wrongly when re-seeding dedup.
  if (scratch_.bootId) {
    scratch_.bootMs =
        boot_->bootMillis() -
        std::chrono::duration_cast<std::chrono::milliseconds>(time_->monotonicTime() - present->since).count();
  }
  noteLogged(id);
  if (!pending_.empty() || fatal_) {
    // Keep log order: nothing overtakes lines that are still waiting.
    const std::size_t before = pending_.size();
    enqueue(jsonl_log::CheckIn(scratch_));
    return pending_.size() > before ? Verdict::pending : Verdict::dropped;
  }
  const auto appended = writer_->append(scratch_);
  if (appended) {
    ++counters_.logged;
    return Verdict::logged;
  }
  ++counters_.writeFailures;
  support::log::error("scanner.log_write_failed", {{"error", appended.error().message},
                                                   {"code", appended.error().code.value()},
                                                   {"action", "keeping check-ins in memory and retrying"}});
  if (writer_->broken()) fatal_ = appended.error();
  nextRetry_ = time_->monotonicTime() + options_.retryInterval;
  enqueue(jsonl_log::CheckIn(scratch_));
  return Verdict::pending;
}

bool Pipeline::retryPending() {
  std::uint64_t written = 0;
  while (!pending_.empty()) {
    const auto appended = writer_->append(pending_.front());
    if (!appended) {
      ++counters_.writeFailures;
      if (writer_->broken()) fatal_ = appended.error();
      nextRetry_ = time_->monotonicTime() + options_.retryInterval;
      support::log::warn("scanner.log_write_retry_failed",
                         {{"error", appended.error().message}, {"pending", pending_.size()}});
      counters_.logged += written;
      return false;
    }
    ++written;
    pending_.pop_front();
  }
  counters_.logged += written;
  nextRetry_.reset();
  support::log::info("scanner.log_write_recovered", {{"written", written}});
  return true;
}

jsonl_log::Outcome<void> Pipeline::tick() {
  if (fatal_) return *fatal_;
  presence_.expire();
  const auto now = time_->monotonicTime();
  if (nextLastSeen_ && now >= *nextLastSeen_) {
    presence_.forEachPresent([this](const Stay& s) { writeLastSeen(s); });
    nextLastSeen_ = now + *options_.lastSeenInterval;
  }
  if (fatal_) return *fatal_;
  if (!pending_.empty() && (!nextRetry_ || now >= *nextRetry_)) {
    retryPending();
    if (fatal_) return *fatal_;
  }
  const auto synced = writer_->commit(now);
  if (!synced) {
    fatal_ = synced.error();
    return synced.error();
  }
  if (*synced) {
    support::log::info("log.durable", {{"lines", writer_->durableLines()}, {"offset", writer_->durableOffset()}});
  }
  return {};
}

jsonl_log::Outcome<void> Pipeline::flush() {
  if (fatal_) return *fatal_;
  if (!pending_.empty()) retryPending();
  if (options_.lastSeenInterval && !lastSeenFlushed_ && pending_.empty()) {
    // Who is still there when the scanner stops: the last word on their stay.
    presence_.forEachPresent([this](const Stay& s) { writeLastSeen(s); });
    lastSeenFlushed_ = true;
  }
  if (fatal_) return *fatal_;
  const bool wasDirty = writer_->durableOffset() != writer_->endOffset();
  if (auto r = writer_->sync(); !r) {
    fatal_ = r.error();
    return r.error();
  }
  if (wasDirty) {
    support::log::info("log.durable", {{"lines", writer_->durableLines()}, {"offset", writer_->durableOffset()}});
  }
  return {};
}

std::optional<std::chrono::steady_clock::time_point> Pipeline::nextDeadline() const noexcept {
  auto due = writer_->syncDue();
  if (!pending_.empty() && nextRetry_ && (!due || *nextRetry_ < *due)) due = nextRetry_;
  return due;
}

}  // namespace attendance::scanner
