#include "cli.hpp"

#include <attendance/core/core.hpp>
#include <attendance/support/log.hpp>

#include "app_cli/cli.hpp"
#include "app_cli/server_config.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <tuple>

namespace attendance::admin {
namespace {

namespace core = attendance::core;
namespace json = boost::json;

struct State {
  explicit State(const Io& i) : io(i) {}
  Io io;
  std::string databaseUrl;
  std::string configPath;  // --config: the servers' TOML file, for its [database] section

  // event
  std::optional<std::string> eventId;
  std::string eventName, venue;
  std::optional<std::string> starts, ends;
  bool privateIds = false;
  std::optional<std::string> capacity, registrationCloses;  // "none" = unlimited / when the event is over
  std::string updateEventId;
  // user
  std::string email, displayName, userId;
  std::optional<std::string> passwordFile;
  // registration
  std::string regEvent, regUser;
  // scanner
  std::string scannerId, scannerEvent;
  // checkin (manual check-in / revoke by door staff)
  std::string overrideEvent, overrideParticipant, overrideReason, overrideBy;
  // report
  std::string reportEvent, format = "table";
  int bucketMinutes = 15;
  std::string listFormat = "table";
  // The command's database (openDatabase), asked why it could not connect.
  std::unique_ptr<core::ConnectionPool> pool;
};

[[noreturn]] void fail(const State& s, int code, const std::string& message) {
  s.io.err << app_cli::errorLine("attendance-admin", message) << '\n';
  throw CLI::RuntimeError(code);
}

int exitCodeFor(const boost::system::error_code& ec) {
  if (ec.category() != core::coreCategory()) return kInternal;
  switch (static_cast<core::Errc>(ec.value())) {
    case core::Errc::invalid_argument:
    case core::Errc::malformed_body:
    case core::Errc::payload_too_large: return kInvalid;
    case core::Errc::not_found:
    case core::Errc::event_not_found:
    case core::Errc::user_not_found:
    case core::Errc::scanner_not_found: return kNotFound;
    case core::Errc::conflict: return kConflict;
    case core::Errc::unavailable: return kUnavailable;
    case core::Errc::schema_outdated: return kSchemaOutdated;
    default: return kInternal;
  }
}

[[noreturn]] void failWith(const State& s, const boost::system::error_code& ec, const std::string& what) {
  std::string message = what + ": " + ec.message();
  if (ec == core::Errc::unavailable) {
    // libpq's reason: "database unavailable: role "root" does not exist".
    if (const auto why = s.pool ? s.pool->lastConnectFailure() : std::string{}; !why.empty()) message += ": " + why;
    message += " (check --database-url, DATABASE_URL, the config file's [database] url or the PG* variables)";
  }
  if (ec == core::Errc::schema_outdated)
    message = what + ": database schema is not current: run `attendance-admin migrate`";
  fail(s, exitCodeFor(ec), message);
}

template <class T>
T check(const State& s, Result<T> r, const std::string& what) {
  if (!r) failWith(s, r.error(), what);
  return std::move(*r);
}

void check(const State& s, Result<void> r, const std::string& what) {
  if (!r) failWith(s, r.error(), what);
}

// The database the servers use, found as they find it (ADR 0070): --database-url, else DATABASE_URL, else
// the config file's [database] url or url-file (--config, or /etc/attendance/server.toml when it exists),
// else libpq's PG* variables. So on an installed server the management commands need no flag.
std::string databaseUrlOf(const State& s) {
  app_cli::ServerConfig config{"attendance-admin", {"database"}, {"backend", "admin"}};
  CLI::App none;
  std::string url;
  config.addString(none, {"database", "url", "", "DATABASE_URL", true}, url, "libpq connection string or URI");
  config.addSecretFile({"database", "url-file", "", "", false}, "url");
  if (!s.configPath.empty()) config.useFile(s.configPath);
  if (!s.databaseUrl.empty()) config.setFromFlag("database", "url", s.databaseUrl, "--database-url");
  if (auto why = config.resolve()) fail(s, kUsage, *why);
  return url;
}

core::ConnectionPool* openDatabase(State& s, bool requireCurrentSchema) {
  core::DatabaseConfig cfg = core::DatabaseConfig::fromEnvironment();
  if (const auto url = databaseUrlOf(s); !url.empty()) cfg.conninfo = url;
  cfg.poolSize = 1;
  cfg.acquireTimeout = std::chrono::seconds{10};
  s.pool = std::make_unique<core::ConnectionPool>(cfg);
  core::ConnectionPool* pool = s.pool.get();
  if (requireCurrentSchema) {
    const auto status = check(s, core::schemaStatus(*pool), "cannot read the schema version");
    if (!status.upToDate()) {
      fail(s, kSchemaOutdated,
           status.newerThanBinary()
               ? fmt::format("database schema version {} is newer than this program ({}): upgrade attendance-admin",
                             status.current, status.expected)
               : "database schema is not current: run `attendance-admin migrate`");
    }
  }
  return pool;
}

json::value timeOrNull(const std::optional<core::TimePoint>& t) {
  if (!t) return nullptr;
  return json::value(core::formatIsoUtc(*t));
}

json::object eventJson(const core::Event& e) {
  return {{"id", e.id},
          {"name", e.name},
          {"venue", e.venue},
          {"startsAt", timeOrNull(e.startsAt)},
          {"endsAt", timeOrNull(e.endsAt)},
          {"privateIds", e.privateIds},
          {"capacity", e.capacity ? json::value(*e.capacity) : json::value(nullptr)},
          {"registrationClosesAt", timeOrNull(e.registrationClosesAt)}};
}

json::object userJson(const core::User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.displayName},
          {"bleUuid", u.bleUuid.toString()},
          {"disabled", u.disabled},
          {"canLogIn", u.hasPassword}};
}

void printJson(const State& s, const json::value& v) { s.io.out << json::serialize(v) << '\n'; }

std::optional<core::TimePoint> parseTimeOption(const State& s, const std::optional<std::string>& text,
                                               const char* option) {
  if (!text) return std::nullopt;
  auto t = core::parseIsoUtc(*text);
  if (!t) {
    fail(s, kInvalid,
         fmt::format("{} '{}' is not an ISO 8601 time (e.g. 2024-07-20T10:30:00Z or 2024-07-20T12:30+02:00)", option,
                     *text));
  }
  return t;
}

std::string readPasswordFile(const State& s, const std::string& path) {
  std::string text;
  if (path == "-") {
    std::getline(std::cin, text);
  } else {
    std::ifstream in{path, std::ios::binary};
    if (!in) fail(s, kInputFile, "cannot read --password-file " + path);
    std::getline(in, text);
  }
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

void table(const State& s, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& r : rows) {
    widths.resize(std::max(widths.size(), r.size()));
    for (std::size_t c = 0; c < r.size(); ++c) widths[c] = std::max(widths[c], r[c].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line.append(widths[c] - r[c].size() + 2, ' ');
    }
    s.io.out << line << '\n';
  }
}

std::string shortTime(const std::optional<core::TimePoint>& t) {
  if (!t) return "-";
  auto iso = core::formatIsoUtc(*t);
  iso[10] = ' ';
  return iso.substr(0, 16);
}

void addListFormat(CLI::App* cmd, const std::shared_ptr<State>& st) {
  cmd->add_option("--format", st->listFormat, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
}

// --capacity N|none and --registration-closes TIME|none onto `limits` (absent options leave it).
void applyLimitOptions(const State& s, core::RegistrationLimits& limits) {
  if (s.capacity) {
    if (*s.capacity == "none") {
      limits.capacity.reset();
    } else {
      std::int32_t n = 0;
      const auto* end = s.capacity->data() + s.capacity->size();
      const auto [ptr, ec] = std::from_chars(s.capacity->data(), end, n);
      if (ec != std::errc{} || ptr != end || n < 1 || n > 1'000'000) {
        fail(s, kInvalid,
             fmt::format("--capacity '{}' must be a whole number from 1 to 1000000, or none", *s.capacity));
      }
      limits.capacity = n;
    }
  }
  if (s.registrationCloses) {
    limits.closesAt = *s.registrationCloses == "none"
                          ? std::nullopt
                          : parseTimeOption(s, s.registrationCloses, "--registration-closes");
  }
}

// --- commands -------------------------------------------------------------

void eventCreate(State& s) {
  core::NewEvent ne;
  ne.id = s.eventId;
  ne.name = s.eventName;
  ne.venue = s.venue;
  ne.startsAt = parseTimeOption(s, s.starts, "--starts");
  ne.endsAt = parseTimeOption(s, s.ends, "--ends");
  ne.privateIds = s.privateIds;
  applyLimitOptions(s, ne.registration);
  if (auto why = core::validateNewEvent(ne)) fail(s, kInvalid, *why);
  auto pool = openDatabase(s, true);
  const auto e = check(s, core::createEvent(*pool, ne, s.io.clock.systemTime()),
                       ne.id ? "cannot create event " + *ne.id : std::string{"cannot create event"});
  printJson(s, eventJson(e));
}

// Changes the registration limits only; more seats move waitlisted participants up.
void eventUpdate(State& s) {
  if (!s.capacity && !s.registrationCloses)
    fail(s, kInvalid, "nothing to change: give --capacity or --registration-closes");
  auto pool = openDatabase(s, true);
  const auto e = check(s, core::getEvent(*pool, s.updateEventId), "cannot update event " + s.updateEventId);
  core::EventEdit edit{e.name, e.venue, e.startsAt, e.endsAt};
  core::RegistrationLimits limits{e.capacity, e.registrationClosesAt};
  applyLimitOptions(s, limits);
  edit.registration = limits;
  if (auto why = core::validateEventEdit(edit)) fail(s, kInvalid, *why);
  const auto updated =
      check(s, core::updateEvent(*pool, s.updateEventId, edit), "cannot update event " + s.updateEventId);
  printJson(s, eventJson(updated));
}

void eventList(State& s) {
  auto pool = openDatabase(s, true);
  const auto events = check(s, core::listEvents(*pool), "cannot list events");
  if (s.listFormat == "json") {
    json::array arr;
    for (const auto& e : events) arr.push_back(eventJson(e));
    printJson(s, arr);
    return;
  }
  std::vector<std::vector<std::string>> rows{{"ID", "NAME", "VENUE", "STARTS (UTC)", "ENDS (UTC)"}};
  for (const auto& e : events) rows.push_back({e.id, e.name, e.venue, shortTime(e.startsAt), shortTime(e.endsAt)});
  table(s, rows);
}

void userCreate(State& s) {
  core::NewUser nu{s.email, s.displayName, std::nullopt};
  if (s.passwordFile) nu.password = readPasswordFile(s, *s.passwordFile);
  const core::AuthConfig auth;
  if (auto why = core::validateNewUser(nu, auth)) fail(s, kInvalid, *why);
  auto pool = openDatabase(s, true);
  const auto u = check(s, core::createUser(*pool, nu, auth, s.io.clock.systemTime()), "cannot create user " + s.email);
  printJson(s, userJson(u));
}

void userList(State& s) {
  auto pool = openDatabase(s, true);
  const auto users = check(s, core::listUsers(*pool), "cannot list users");
  if (s.listFormat == "json") {
    json::array arr;
    for (const auto& u : users) arr.push_back(userJson(u));
    printJson(s, arr);
    return;
  }
  std::vector<std::vector<std::string>> rows{{"ID", "EMAIL", "NAME", "BLE UUID", "LOGIN", "DISABLED"}};
  for (const auto& u : users) {
    rows.push_back(
        {u.id, u.email, u.displayName, u.bleUuid.toString(), u.hasPassword ? "yes" : "no", u.disabled ? "yes" : "no"});
  }
  table(s, rows);
}

void userRegenerate(State& s) {
  auto pool = openDatabase(s, true);
  const auto fresh = check(s, core::regenerateBleUuid(*pool, s.userId), "cannot regenerate the bleUuid of " + s.userId);
  printJson(s, json::object{{"id", s.userId}, {"bleUuid", fresh.toString()}});
}

void registrationAdd(State& s) {
  auto pool = openDatabase(s, true);
  const auto outcome = check(s, core::registerForEvent(*pool, s.regEvent, s.regUser, s.io.clock.systemTime()),
                             "cannot register user " + s.regUser + " for event " + s.regEvent);
  printJson(s, json::object{{"eventId", s.regEvent},
                            {"userId", s.regUser},
                            {"created", outcome == core::RegistrationOutcome::created}});
}

void registrationRemove(State& s) {
  auto pool = openDatabase(s, true);
  const bool removed = check(s, core::unregisterFromEvent(*pool, s.regEvent, s.regUser),
                             "cannot remove the registration of " + s.regUser + " for " + s.regEvent);
  printJson(s, json::object{{"eventId", s.regEvent}, {"userId", s.regUser}, {"removed", removed}});
}

void scannerCreate(State& s) {
  if (!core::isValidScannerId(s.scannerId))
    fail(s, kInvalid, "scanner id must be 1-128 characters of A-Z a-z 0-9 . _ : -");
  auto pool = openDatabase(s, true);
  const auto created = check(s, core::createScanner(*pool, s.scannerId, s.io.clock.systemTime()),
                             "cannot create scanner " + s.scannerId);
  printJson(
      s, json::object{{"scannerId", created.scannerId}, {"apiKey", created.apiKey}, {"keyPrefix", created.keyPrefix}});
  s.io.err << "attendance-admin: store the apiKey now; only its hash is kept and it cannot be shown again\n";
}

void scannerRevoke(State& s) {
  auto pool = openDatabase(s, true);
  check(s, core::revokeScanner(*pool, s.scannerId, s.io.clock.systemTime()), "cannot revoke scanner " + s.scannerId);
  printJson(s, json::object{{"scannerId", s.scannerId}, {"revoked", true}});
}

void scannerAssign(State& s) {
  auto pool = openDatabase(s, true);
  const bool created = check(s, core::assignScanner(*pool, s.scannerId, s.scannerEvent, s.io.clock.systemTime()),
                             "cannot assign scanner " + s.scannerId + " to event " + s.scannerEvent);
  printJson(s, json::object{{"scannerId", s.scannerId}, {"eventId", s.scannerEvent}, {"created", created}});
}

void scannerUnassign(State& s) {
  auto pool = openDatabase(s, true);
  const bool removed = check(s, core::unassignScanner(*pool, s.scannerId, s.scannerEvent),
                             "cannot unassign scanner " + s.scannerId + " from event " + s.scannerEvent);
  printJson(s, json::object{{"scannerId", s.scannerId}, {"eventId", s.scannerEvent}, {"removed", removed}});
}

void scannerList(State& s) {
  auto pool = openDatabase(s, true);
  const auto scanners = check(s, core::listScanners(*pool), "cannot list scanners");
  std::map<std::string, std::vector<std::string>> assigned;  // scannerId -> its events, in event id order
  for (auto& a : check(s, core::listAssignments(*pool), "cannot list scanner assignments")) {
    assigned[a.scannerId].push_back(std::move(a.eventId));
  }
  auto eventsOf = [&](const std::string& scannerId) {
    const auto it = assigned.find(scannerId);
    return it == assigned.end() ? std::vector<std::string>{} : it->second;
  };
  if (s.listFormat == "json") {
    json::array arr;
    for (const auto& sc : scanners) {
      json::array events;
      for (auto& e : eventsOf(sc.scannerId)) events.emplace_back(e);
      arr.push_back(json::object{{"scannerId", sc.scannerId},
                                 {"keyPrefix", sc.keyPrefix},
                                 {"createdAt", core::formatIsoUtc(sc.createdAt)},
                                 {"revokedAt", timeOrNull(sc.revokedAt)},
                                 {"lastSyncAt", timeOrNull(sc.lastSyncAt)},
                                 {"recordsReceived", sc.recordsReceived},
                                 {"events", std::move(events)}});
    }
    printJson(s, arr);
    return;
  }
  std::vector<std::vector<std::string>> rows{
      {"SCANNER", "KEY PREFIX", "CREATED (UTC)", "REVOKED", "LAST SYNC (UTC)", "RECORDS", "EVENTS"}};
  for (const auto& sc : scanners) {
    std::string events;
    for (const auto& e : eventsOf(sc.scannerId)) events += (events.empty() ? "" : ",") + e;
    rows.push_back({sc.scannerId, sc.keyPrefix + "...", shortTime(sc.createdAt),
                    sc.revokedAt ? shortTime(sc.revokedAt) : "no", shortTime(sc.lastSyncAt),
                    std::to_string(sc.recordsReceived), events.empty() ? "-" : events});
  }
  table(s, rows);
}

void report(State& s) {
  auto pool = openDatabase(s, true);
  core::ReportOptions opts;
  opts.bucketWidth = std::chrono::minutes{s.bucketMinutes};
  const auto r = check(s, core::buildReport(*pool, s.reportEvent, s.io.clock.systemTime(), opts),
                       "cannot build the report for event " + s.reportEvent);
  if (s.format == "json") {
    s.io.out << core::renderReportJson(r) << '\n';
  } else if (s.format == "csv") {
    s.io.out << core::renderReportCsv(r);
  } else {
    s.io.out << core::renderReportTable(r);
  }
}

// Who the audit trail names for a change made from the command line: --by, else
// "cli:<login name>".
std::string operatorName(const State& s) {
  if (!s.overrideBy.empty()) return s.overrideBy;
  const char* user = std::getenv("USER");
  return std::string{"cli:"} + (user != nullptr && *user != '\0' ? user : "unknown");
}

void checkInOverride(State& s, core::OverrideAction action) {
  if (const auto why = core::validateOverrideReason(s.overrideReason)) fail(s, kInvalid, "--reason: " + *why);
  auto pool = openDatabase(s, true);
  const std::string by = operatorName(s);
  auto entry = core::recordOverride(*pool, {s.overrideEvent, s.overrideParticipant, action, by, s.overrideReason},
                                    s.io.clock.systemTime());
  if (!entry && entry.error() == core::Errc::conflict) {
    fail(s, kConflict,
         fmt::format("{} is {} at event {}: nothing recorded", s.overrideParticipant,
                     action == core::OverrideAction::check_in ? "already checked in" : "not checked in",
                     s.overrideEvent));
  }
  if (!entry && entry.error() == core::Errc::user_not_found) {
    fail(s, kNotFound, "no participant with the email " + s.overrideParticipant);
  }
  const auto e = check(s, std::move(entry),
                       fmt::format("cannot record the {} of {} at event {}", core::toString(action),
                                   s.overrideParticipant, s.overrideEvent));
  printJson(s, json::object{{"eventId", s.overrideEvent},
                            {"userId", e.userId},
                            {"email", e.email},
                            {"action", core::toString(e.action)},
                            {"by", e.adminEmail},
                            {"reason", e.reason},
                            {"at", core::formatIsoUtc(e.at)}});
}
void checkInAdd(State& s) { checkInOverride(s, core::OverrideAction::check_in); }
void checkInRevoke(State& s) { checkInOverride(s, core::OverrideAction::revoke); }

void deploymentShow(State& s) {
  auto pool = openDatabase(s, true);
  const auto d = check(s, core::readDeployment(*pool), "cannot read the deployment");
  printJson(s, json::object{{"namespace", d.bleNamespace.toHex()},
                            {"createdAt", core::formatIsoUtc(d.createdAt)},
                            {"participants", d.participants},
                            {"participantsOutsideNamespace", d.participantsOutsideNamespace}});
}

void migrateCommand(State& s) {
  auto pool = openDatabase(s, false);
  const auto m = check(s, core::migrate(*pool), "migration failed");
  printJson(s, json::object{{"from", m.from}, {"to", m.to}, {"applied", m.applied()}});
}

// Wraps a command so unexpected exceptions become exit code 1 with a message.
std::function<void()> action(const std::shared_ptr<State>& st, void (*fn)(State&)) {
  return [st, fn] {
    try {
      fn(*st);
    } catch (const CLI::RuntimeError&) {
      throw;
    } catch (const std::exception& e) {
      fail(*st, kInternal, std::string{"unexpected error: "} + e.what());
    }
  };
}

}  // namespace

void addCoreCommands(CLI::App& app, const Io& io) {
  auto st = std::make_shared<State>(io);
  app.add_option("--database-url", st->databaseUrl,
                 "libpq connection string or URI (default: $DATABASE_URL, else the config file's [database] url or "
                 "url-file, else the PG* variables)");
  app.add_option("--config", st->configPath,
                 fmt::format("the servers' TOML settings file, read for its [database] section (default: {} when it "
                             "exists)",
                             app_cli::kServerConfigPath))
      ->type_name("FILE");

  auto* event = app.add_subcommand("event", "Create, change and list events")->require_subcommand(1);
  auto* eventCreateCmd = event->add_subcommand("create", "Create an event; prints it as JSON");
  eventCreateCmd->add_option("--name", st->eventName, "Event name")->required();
  eventCreateCmd->add_option("--venue", st->venue, "Venue");
  eventCreateCmd->add_option("--starts", st->starts, "Start, ISO 8601 (2024-07-20T10:00:00Z)");
  eventCreateCmd->add_option("--ends", st->ends, "End, ISO 8601");
  eventCreateCmd->add_option("--id", st->eventId, "Event id (default: generated ev-xxxxxxxxxxxx)");
  eventCreateCmd->add_flag("--private-ids", st->privateIds,
                           "Participants broadcast private rotating ids, resolved at ingest (docs/beacon-spec.md)");
  auto addLimitOptions = [&st](CLI::App* cmd) {
    cmd->add_option("--capacity", st->capacity,
                    "Seats (1-1000000), or none: unlimited; when full, participants join a waitlist");
    cmd->add_option("--registration-closes", st->registrationCloses,
                    "When participants' registration closes, ISO 8601, or none (default: when the event is over)");
  };
  addLimitOptions(eventCreateCmd);
  eventCreateCmd->callback(action(st, eventCreate));
  auto* eventUpdateCmd = event->add_subcommand("update", "Change an event's capacity or registration closing time");
  eventUpdateCmd->add_option("--id", st->updateEventId, "Event id")->required();
  addLimitOptions(eventUpdateCmd);
  eventUpdateCmd->callback(action(st, eventUpdate));
  auto* eventListCmd = event->add_subcommand("list", "List events");
  addListFormat(eventListCmd, st);
  eventListCmd->callback(action(st, eventList));

  auto* user = app.add_subcommand("user", "Create and list participants")->require_subcommand(1);
  auto* userCreateCmd = user->add_subcommand("create", "Create a user; prints {id, bleUuid, ...}");
  userCreateCmd->add_option("--email", st->email, "Email (unique, case-insensitive)")->required();
  userCreateCmd->add_option("--name", st->displayName, "Display name")->required();
  userCreateCmd->add_option("--password-file", st->passwordFile,
                            "File whose first line is the password ('-' = stdin); without it the user cannot log in");
  userCreateCmd->callback(action(st, userCreate));
  auto* userListCmd = user->add_subcommand("list", "List users");
  addListFormat(userListCmd, st);
  userListCmd->callback(action(st, userList));
  auto* regen = user->add_subcommand("regenerate-ble-uuid", "Give a user a new random bleUuid");
  regen->add_option("--user,--id", st->userId, "User id")->required();
  regen->callback(action(st, userRegenerate));

  auto* reg = app.add_subcommand("registration", "Register users for events")->require_subcommand(1);
  auto* regAdd = reg->add_subcommand("add", "Register a user for an event");
  regAdd->add_option("--event", st->regEvent, "Event id")->required();
  regAdd->add_option("--user", st->regUser, "User id")->required();
  regAdd->callback(action(st, registrationAdd));
  auto* regRemove = reg->add_subcommand("remove", "Remove a registration");
  regRemove->add_option("--event", st->regEvent, "Event id")->required();
  regRemove->add_option("--user", st->regUser, "User id")->required();
  regRemove->callback(action(st, registrationRemove));

  auto* scanner = app.add_subcommand("scanner", "Scanner API keys")->require_subcommand(1);
  auto* scCreate = scanner->add_subcommand("create", "Create a scanner; prints its API key once");
  scCreate->add_option("--id", st->scannerId, "Scanner id, e.g. Entrance-Scanner-01")->required();
  scCreate->callback(action(st, scannerCreate));
  auto* scRevoke = scanner->add_subcommand("revoke", "Revoke a scanner's API key");
  scRevoke->add_option("--id", st->scannerId, "Scanner id")->required();
  scRevoke->callback(action(st, scannerRevoke));
  auto* scAssign = scanner->add_subcommand("assign", "Let a scanner sync into (and read the roster of) an event");
  scAssign->add_option("--id", st->scannerId, "Scanner id")->required();
  scAssign->add_option("--event", st->scannerEvent, "Event id")->required();
  scAssign->callback(action(st, scannerAssign));
  auto* scUnassign =
      scanner->add_subcommand("unassign", "Take an event away from a scanner (its next sync is refused)");
  scUnassign->add_option("--id", st->scannerId, "Scanner id")->required();
  scUnassign->add_option("--event", st->scannerEvent, "Event id")->required();
  scUnassign->callback(action(st, scannerUnassign));
  auto* scList = scanner->add_subcommand("list", "List scanners with their events");
  addListFormat(scList, st);
  scList->callback(action(st, scannerList));

  auto* checkin = app.add_subcommand("checkin", "Manual check-in and revoke by door staff (kept in the audit trail)")
                      ->require_subcommand(1);
  for (const auto& [name, help, fn] :
       {std::tuple{"add", "Check a participant in by hand (they were not seen or were revoked)", &checkInAdd},
        std::tuple{"revoke", "Revoke a participant's check-in (by a scanner or by hand)", &checkInRevoke}}) {
    auto* cmd = checkin->add_subcommand(name, help);
    cmd->add_option("--event", st->overrideEvent, "Event id")->required();
    cmd->add_option("--participant", st->overrideParticipant, "The participant's email")->required();
    cmd->add_option("--reason", st->overrideReason, "Why (required, one line, at most 500 characters)")->required();
    cmd->add_option("--by", st->overrideBy, "Who, for the audit trail (default: cli:$USER)");
    cmd->callback(action(st, fn));
  }

  auto* deployment = app.add_subcommand("deployment", "This deployment's settings")->require_subcommand(1);
  deployment->add_subcommand("show", "Print {\"namespace\": 20 hex digits (the scanner's --namespace), ...} as JSON")
      ->callback(action(st, deploymentShow));

  auto* rep = app.add_subcommand("report", "Attendance report of an event");
  rep->add_option("--event", st->reportEvent, "Event id")->required();
  rep->add_option("--format", st->format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  rep->add_option("--bucket-minutes", st->bucketMinutes, "Arrival histogram bucket width")
      ->check(CLI::Range(1, 1440))
      ->capture_default_str();
  rep->callback(action(st, report));

  app.add_subcommand("migrate", "Apply database migrations (same as attendance-backend migrate)")
      ->callback(action(st, migrateCommand));
}

int run(int argc, const char* const* argv, const Io& io, const std::function<void(CLI::App&)>& extraCommands) {
  CLI::App app{"attendance-admin: manage events, participants, scanners and reports"};
  app_cli::configure(app, "attendance-admin",
                     {{kOk, "done"},
                      {kInternal, "unexpected failure"},
                      {kUsage, "bad command line"},
                      {kInvalid, "a value was rejected (email, id, dates, password, --listen)"},
                      {kNotFound, "unknown event, user or scanner (checkin: no participant with that email)"},
                      {kConflict,
                       "already exists (email, event id, scanner id, admin); checkin add: already "
                       "checked in, checkin revoke: not checked in"},
                      {kUnavailable, "database unavailable (the message names libpq's reason)"},
                      {kSchemaOutdated, "database schema not current: run `attendance-admin migrate`"},
                      {kInputFile, "--password-file unreadable"},
                      {kListen, "serve: cannot listen on --listen"}},
                     "docs/admin-cli.md");
  app.require_subcommand(1);
  app.fallthrough();
  addCoreCommands(app, io);
  if (extraCommands) extraCommands(app);
  if (auto exit = app_cli::parse(app, argc, argv)) {
    io.out << exit->out;
    io.err << exit->err;
    return exit->code;
  }
  return kOk;
}

}  // namespace attendance::admin
