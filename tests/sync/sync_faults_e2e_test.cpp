// Faults on the way to the backend (issue 9 §3), end to end and all real:
// PostgreSQL stopped and started again during a sync, the backend killed with
// SIGKILL in the middle of a transaction, and requests corrupted or duplicated
// by the fault proxy. Each ends with the database compared against the log and
// with the sync's exit code and message checked (docs/reliability.md).
#include "sync/fault_proxy.hpp"
#include "sync/private_cluster.hpp"
#include "sync/sync_e2e_fixture.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <random>
#include <thread>

using namespace attendance::testing::sync_e2e;

namespace {

// Polls `done` every few milliseconds until it is true or `deadline` has passed.
template <class F>
bool waitUntil(F done, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Another session of the database runs a statement starting with `prefix`
// (and, with `waitingForLock`, is blocked on a lock in it).
class ActivityWatch {
public:
  explicit ActivityWatch(const std::string& conninfo) : conn_(conninfo) {}
  bool running(const std::string& prefix, bool waitingForLock = false) {
    pqxx::nontransaction tx{conn_};
    const auto r = tx.exec_params1(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND state = 'active' AND query LIKE $1 AND ($2 = false OR wait_event_type = 'Lock')",
        prefix + "%", waitingForLock);
    return r[0].as<int>() > 0;
  }
  // A transaction of another session has written something (it holds an xid):
  // an ingest between its receipt INSERT and its COMMIT.
  bool writingTransaction() {
    pqxx::nontransaction tx{conn_};
    return tx.exec1(
                 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                 "pid <> pg_backend_pid() AND backend_xid IS NOT NULL")[0]
               .as<int>() > 0;
  }
  // Sessions of the database other than this one (the backend's pool, orphans).
  int otherSessions() {
    pqxx::nontransaction tx{conn_};
    return tx
        .exec1(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
            "pid <> pg_backend_pid()")[0]
        .as<int>();
  }

private:
  pqxx::connection conn_;
};

// Holds ACCESS EXCLUSIVE on `registrations` until release(): an ingest transaction
// has then written its receipt and its rows and waits in its last query, the
// classification of the batch's bleUuids, before commit.
class RegistrationsLock {
public:
  explicit RegistrationsLock(const std::string& conninfo)
      : conn_(std::make_unique<pqxx::connection>(conninfo)), tx_(std::make_unique<pqxx::work>(*conn_)) {
    tx_->exec("LOCK TABLE registrations IN ACCESS EXCLUSIVE MODE");
  }
  ~RegistrationsLock() { release(); }
  // Rolls back and disconnects.
  void release() {
    try {
      if (tx_) tx_->abort();
    } catch (const std::exception&) {  // the server went away with the lock: nothing to release
    }
    tx_.reset();
    conn_.reset();
  }

private:
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::work> tx_;
};

using attendance::testing::readFile;

// `args` with the value of option `name` (which syncArgs sets) replaced.
std::vector<std::string> with(std::vector<std::string> args, const std::string& name, const std::string& value) {
  auto it = std::find(args.begin(), args.end(), name);
  if (it == args.end() || std::next(it) == args.end()) throw std::logic_error("no option " + name);
  *std::next(it) = value;
  return args;
}

std::size_t countOf(const std::vector<unsigned>& statuses, unsigned status) {
  return static_cast<std::size_t>(std::count(statuses.begin(), statuses.end(), status));
}

std::string joined(const std::vector<unsigned>& statuses) {
  std::string out;
  for (auto s : statuses) out += std::to_string(s) + " ";
  return out;
}

// The backend's database on a PostgreSQL cluster of this test's own, which it may stop.
class SyncWithOwnPostgres : public SyncEndToEnd {
protected:
  std::string databaseConninfo() override {
    cluster = std::make_unique<at::PrivateCluster>();
    cluster->createDatabase("attendance");
    return cluster->conninfo("attendance");
  }
  std::unique_ptr<at::PrivateCluster> cluster;
};

}  // namespace

// ---- PostgreSQL stopped and started again ----

TEST_F(SyncWithOwnPostgres, StoppedBetweenBatchesAndStartedAgainTheSameSyncFinishes) {
  writeLog(150);  // 3,000 lines, 30 batches of 100 behind 30 ms of proxy latency
  at::FaultProxy proxy(backendPort, nullptr, 3000ms, 30ms);
  const auto began = std::chrono::steady_clock::now();
  at::Child sync(syncArgs(proxy.url(), {"--batch-size", "100"}), {}, dir.path() / "sync-stderr.txt");
  ASSERT_TRUE(waitUntil([&] { return storedCount() >= 600; }, 60s));
  cluster->stop("fast");
  std::this_thread::sleep_for(3s);  // the sync meets the outage, with its own backoff
  cluster->start();
  const auto code = sync.wait(120s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  const auto statuses = proxy.backendStatuses();
  ASSERT_EQ(code, 0) << readFile(dir.path() / "sync-stderr.txt") << "\nstatuses: " << joined(statuses);
  EXPECT_GE(countOf(statuses, 503), 1u) << joined(statuses);
  EXPECT_EQ(countOf(statuses, 500), 0u) << joined(statuses) << "\n" << backendLog(1);
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 3000);
  expectReportMatchesArrivals();
  EXPECT_FALSE(backend->wait(0ms)) << "the backend must outlive its database's restart";
  std::cout << "[ measured ] PostgreSQL down 3 s between batches: " << countOf(statuses, 503) << " x 503, "
            << countOf(statuses, 500) << " x 500, sync exit 0 after " << took.count() << " ms\n";
}

// Stopped while a batch's transaction is open: in its COPY, or after it wrote its
// receipt and every row and waits in its last query (a lock the test holds).
TEST_F(SyncWithOwnPostgres, StoppedMidTransactionIsA503AndNothingOfTheBatchIsKept) {
  writeLog(1000);  // 20,000 lines in one batch
  int round = 0;
  for (const std::string point : {"COPY ", "WITH seen"}) {
    SCOPED_TRACE(point);
    ++round;
    at::FaultProxy proxy(backendPort, nullptr);
    std::optional<RegistrationsLock> lock;
    if (point == "WITH seen") lock.emplace(conninfo);
    // --all: the second round resends what the first stored.
    at::Child sync(with(syncArgs(proxy.url(), {"--batch-size", "20000", "--all"}), "--request-timeout", "30"), {},
                   dir.path() / "sync-stderr.txt");
    {
      ActivityWatch watch{conninfo};
      ASSERT_TRUE(waitUntil([&] { return watch.running(point, lock.has_value()); }, 60s))
          << readFile(dir.path() / "sync-stderr.txt");
    }
    cluster->stop("fast");
    lock.reset();
    std::this_thread::sleep_for(1s);
    cluster->start();
    const auto code = sync.wait(120s);
    const auto statuses = proxy.backendStatuses();
    ASSERT_EQ(code, 0) << readFile(dir.path() / "sync-stderr.txt") << "\nstatuses: " << joined(statuses);
    EXPECT_GE(countOf(statuses, 503), 1u) << joined(statuses);
    EXPECT_EQ(countOf(statuses, 500), 0u) << joined(statuses) << "\n" << backendLog(1);
    EXPECT_EQ(storedRows(), expected);
    EXPECT_EQ(storedCount(), 20000);
    // One receipt per batch the backend acknowledged, none for the interrupted
    // transaction, and every row inserted by the first acknowledged one.
    EXPECT_EQ(at::rowsOf(conninfo, "SELECT count(*), sum(inserted) FROM sync_receipts")[0],
              std::to_string(round) + "|20000");
    std::cout << "[ measured ] PostgreSQL stopped during " << (point == "COPY " ? "the COPY" : "the last query")
              << " of a 20,000-record batch: backend answered " << joined(statuses) << "; sync exit 0\n";
  }
  expectReportMatchesArrivals();
}

TEST_F(SyncWithOwnPostgres, DownLongerThanTheRetriesExitsFourSayingSoAndARerunFinishes) {
  writeLog(10);
  cluster->stop("fast");
  auto r =
      at::runToCompletion(with(syncArgs(direct(backendPort), {"--batch-size", "50"}), "--retries", "2"), dir.path());
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("HTTP 503"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the backend is running but its database is unavailable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run the same command again"), std::string::npos) << r.err;
  std::cout << "[ measured ] PostgreSQL down for the whole sync: exit " << r.code << ", stderr:\n" << r.err;
  cluster->start();
  EXPECT_EQ(storedCount(), 0);
  auto again = at::runToCompletion(syncArgs(direct(backendPort), {"--batch-size", "50"}), dir.path());
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 200);
  expectReportMatchesArrivals();
}

// ---- the backend killed with SIGKILL ----

TEST_F(SyncEndToEnd, BackendKilledMidTransactionLeavesNothingOfTheBatchAndTheRerunStoresItOnce) {
  writeLog(1000);  // 20,000 lines in one batch
  std::optional<RegistrationsLock> lock{std::in_place, conninfo};
  at::Child sync(
      with(with(syncArgs(direct(backendPort), {"--batch-size", "20000"}), "--request-timeout", "30"), "--retries", "2"),
      {}, dir.path() / "sync-stderr.txt");
  ActivityWatch watch{conninfo};
  // The transaction has written its receipt and 20,000 rows and waits before commit.
  ASSERT_TRUE(waitUntil([&] { return watch.running("WITH seen", true); }, 60s));
  backend->kill(SIGKILL);
  ASSERT_EQ(backend->wait(10s), 128 + SIGKILL);
  const auto code = sync.wait(60s);
  const std::string err = readFile(dir.path() / "sync-stderr.txt");
  EXPECT_EQ(code, 4) << err;
  EXPECT_NE(err.find("the backend went away while handling the request"), std::string::npos) << err;
  EXPECT_NE(err.find("run the same command again"), std::string::npos) << err;
  EXPECT_EQ(storedCount(), 0);
  // The orphaned transaction goes on until its query can finish; then PostgreSQL
  // finds its client gone and rolls it back.
  lock.reset();
  ASSERT_TRUE(waitUntil([&] { return watch.otherSessions() == 0; }, 30s));
  EXPECT_EQ(storedCount(), 0);
  EXPECT_EQ(at::rowsOf(conninfo, "SELECT count(*) FROM sync_receipts")[0], "0");
  std::cout << "[ measured ] backend killed with 20,000 rows written and not committed: sync exit "
            << (code ? *code : -1) << ", stderr:\n"
            << err;

  startBackend(backendPort);
  auto r = at::runToCompletion(syncArgs(direct(backendPort), {"--batch-size", "20000"}), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 20000);
  expectReportMatchesArrivals();
}

// Kills inside a batch's transaction at seeded delays after its first write
// (receipt, COPY, classification, commit, answer): only whole batches are ever stored.
TEST_F(SyncEndToEnd, BackendKilledAtSeededPointsInTransactionsLeavesOnlyWholeBatches) {
  // 60,000 lines, 30 batches of 2,000. A round stores a few batches before its kill lands (up to 60 ms
  // after a transaction starts writing); with only 15 batches a fast machine finished the whole log in
  // the sixth round before the kill (sync exit 0, clean-clone CI 2026-12-03), so there is room to spare.
  writeLog(3000);
  std::mt19937 rng(20261207);
  std::uniform_int_distribution<int> when(0, 60);
  int killedInTransaction = 0;
  std::map<int, int> exits;
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    if (round > 0) startBackend(backendPort);
    at::Child sync(with(syncArgs(direct(backendPort), {"--batch-size", "2000"}), "--retries", "2"), {},
                   dir.path() / "sync-stderr.txt");
    {
      ActivityWatch watch{conninfo};
      if (waitUntil([&] { return watch.writingTransaction(); }, 30s)) ++killedInTransaction;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{when(rng)});
    backend->kill(SIGKILL);
    ASSERT_EQ(backend->wait(10s), 128 + SIGKILL);
    const auto code = sync.wait(60s);
    ASSERT_TRUE(code);
    ++exits[*code];
    const std::string err = readFile(dir.path() / "sync-stderr.txt");
    EXPECT_EQ(*code, 4) << err;
    EXPECT_NE(err.find("run the same command again"), std::string::npos) << err;
    // Whole batches only: each is 2,000 consecutive lines of the log, all or nothing.
    ActivityWatch watch{conninfo};
    ASSERT_TRUE(waitUntil([&] { return watch.otherSessions() == 0; }, 30s));
    const auto stored = storedRows();
    EXPECT_EQ(stored.size() % 2000, 0u) << stored.size();
    EXPECT_TRUE(std::includes(expected.begin(), expected.end(), stored.begin(), stored.end()));
  }
  EXPECT_EQ(killedInTransaction, 6);
  startBackend(backendPort);
  auto r = at::runToCompletion(syncArgs(direct(backendPort), {"--batch-size", "2000"}), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 60000);
  expectReportMatchesArrivals();
  std::cout << "[ measured ] 6 SIGKILLs inside a batch transaction (0-60 ms after its first write): " << exits[4]
            << " x sync exit 4; final rerun exit 0, " << storedCount() << " rows\n";
}

// ---- corrupted and duplicated requests ----

// A flipped digit keeps the JSON valid: without an integrity check the backend
// stores a check-in that never happened instead of the real one.
TEST_F(SyncEndToEnd, ACorruptionThatKeepsTheJsonValidIsRefusedNotStoredAndSentAgain) {
  writeLog(10);  // 200 lines, 5 batches of 40
  at::FaultProxy proxy(backendPort, [](std::size_t n) { return n == 2 ? at::Fault::flipDigit : at::Fault::none; });
  auto r = at::runToCompletion(syncArgs(proxy.url(), {"--batch-size", "40"}), dir.path());
  const auto statuses = proxy.backendStatuses();
  EXPECT_EQ(proxy.faultsInjected(), 1u);
  EXPECT_EQ(r.code, 0) << r.out << r.err << "\nstatuses: " << joined(statuses);
  EXPECT_EQ(storedRows(), expected) << "a corrupted record was stored";
  EXPECT_EQ(storedCount(), 200);
  // The backend refused the corrupted copy, naming the cause, and stored nothing of it.
  EXPECT_EQ(joined(statuses), "200 400 200 200 200 200 ");
  for (const auto& e : proxy.backendErrors()) EXPECT_NE(e.find("content_digest_mismatch"), std::string::npos) << e;
  EXPECT_EQ(at::rowsOf(conninfo, "SELECT count(*), sum(inserted), sum(duplicates) FROM sync_receipts")[0], "5|200|0");
  // The operator is told, though the run healed it.
  EXPECT_NE(r.err.find("corrupted on the way"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("All records accepted."), std::string::npos) << r.out;
  expectReportMatchesArrivals();
  std::cout << "[ measured ] a digit flipped in transit: backend answered " << joined(statuses) << "; sync exit "
            << r.code << ", stderr:\n"
            << r.err;
}

// A flipped bit that breaks the JSON: the same treatment, not a whole-batch refusal.
TEST_F(SyncEndToEnd, ACorruptionThatBreaksTheJsonIsRefusedWithItsCauseAndSentAgain) {
  writeLog(10);
  at::FaultProxy proxy(backendPort, [](std::size_t n) { return n == 4 ? at::Fault::flipBit : at::Fault::none; });
  auto r = at::runToCompletion(syncArgs(proxy.url(), {"--batch-size", "40"}), dir.path());
  const auto statuses = proxy.backendStatuses();
  EXPECT_EQ(r.code, 0) << r.out << r.err << "\nstatuses: " << joined(statuses);
  EXPECT_EQ(joined(statuses), "200 200 200 400 200 200 ");
  for (const auto& e : proxy.backendErrors()) EXPECT_NE(e.find("content_digest_mismatch"), std::string::npos) << e;
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(at::rowsOf(conninfo, "SELECT count(*), sum(inserted), sum(duplicates) FROM sync_receipts")[0], "5|200|0");
  EXPECT_NE(r.err.find("corrupted on the way"), std::string::npos) << r.err;
  expectReportMatchesArrivals();
  std::cout << "[ measured ] a bit flipped in transit: backend answered " << joined(statuses) << "; sync exit "
            << r.code << "\n";
}

TEST_F(SyncEndToEnd, EveryRequestCorruptedExitsFourNamingTheCorruptionAndStoresNothing) {
  writeLog(1);
  at::FaultProxy proxy(backendPort, [](std::size_t) { return at::Fault::flipBit; });
  auto r = at::runToCompletion(with(syncArgs(proxy.url()), "--retries", "3"), dir.path());
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_EQ(proxy.requests(), 3u);
  EXPECT_NE(r.err.find("corrupted on the way"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run the same command again"), std::string::npos) << r.err;
  EXPECT_EQ(storedCount(), 0);
  EXPECT_EQ(at::rowsOf(conninfo, "SELECT count(*) FROM sync_receipts")[0], "0");
  std::cout << "[ measured ] every request corrupted: sync exit " << r.code << ", stderr:\n" << r.err;

  auto clean = at::runToCompletion(syncArgs(direct(backendPort)), dir.path());
  ASSERT_EQ(clean.code, 0) << clean.out << clean.err;
  EXPECT_EQ(storedRows(), expected);
}

// The network (or a confused middlebox) delivers a request twice, one after the
// other or both at once: each record is stored once, and the second copy counts
// its records as duplicates.
TEST_F(SyncEndToEnd, ADuplicatedRequestIsStoredOnceAndCountedAsDuplicates) {
  writeLog(10);  // 200 lines, 5 batches of 40
  at::FaultProxy proxy(backendPort, [](std::size_t n) {
    switch (n) {
      case 2: return at::Fault::duplicate;
      case 4: return at::Fault::duplicateAtOnce;
      default: return at::Fault::none;
    }
  });
  auto r = at::runToCompletion(syncArgs(proxy.url(), {"--batch-size", "40"}), dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto statuses = proxy.backendStatuses();
  EXPECT_EQ(statuses, std::vector<unsigned>(7, 200)) << joined(statuses);
  EXPECT_EQ(storedRows(), expected);
  EXPECT_EQ(storedCount(), 200);
  // Seven requests reached the backend; together they inserted each record once.
  EXPECT_EQ(at::rowsOf(conninfo, "SELECT count(*), sum(inserted), sum(duplicates) FROM sync_receipts")[0], "7|200|80");
  // The sequential copy's answer (all 40 duplicates) is the one the sync saw; of the
  // simultaneous pair it saw whichever answered first.
  const bool forty = r.out.find("duplicates                         40") != std::string::npos;
  const bool eighty = r.out.find("duplicates                         80") != std::string::npos;
  EXPECT_TRUE(forty || eighty) << r.out;
  EXPECT_NE(r.out.find("All records accepted."), std::string::npos) << r.out;
  expectReportMatchesArrivals();
  std::cout << "[ measured ] duplicated requests: 7 reached the backend, 200 rows stored, sync saw "
            << (forty ? 40 : 80) << " duplicates\n";
}
