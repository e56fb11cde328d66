#include "beacon/run.hpp"

#include "beacon/backend.hpp"
#include "beacon/schedule.hpp"
#include "beacon/settings.hpp"

#include "app_cli/cli.hpp"

#include <attendance/beacon_id/advert.hpp>
#include <attendance/support/log.hpp>

#include <fstream>

namespace attendance::beacon {

namespace {

constexpr std::string_view kTool = "attendance-beacon";

int fail(Environment& env, int code, const std::string& message) {
  env.err << app_cli::errorLine(kTool, message) << "\n";
  return code;
}

// The first line of the password file, without its line end.
std::optional<std::string> readPassword(const std::string& path, std::string& why) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    why = "cannot read the password file " + path;
    return std::nullopt;
  }
  std::string line;
  line.resize(4097);
  in.read(line.data(), static_cast<std::streamsize>(line.size()));
  line.resize(static_cast<std::size_t>(in.gcount()));
  if (line.size() > 4096) {
    why = "the password file " + path + " is longer than 4 KiB";
    return std::nullopt;
  }
  if (const auto nl = line.find_first_of("\r\n"); nl != std::string::npos) {
    line.resize(nl);
  }
  if (line.empty()) {
    why = "the password file " + path + " is empty";
    return std::nullopt;
  }
  return line;
}

ble_scan::AdvertisingData advertisingData(AdvertFormat format, const support::Uuid& id) {
  ble_scan::AdvertisingData data;
  if (format == AdvertFormat::ibeacon) {
    const auto bytes = beacon_id::iBeaconManufacturerData(id);
    data.manufacturerData[beacon_id::kAppleCompanyId] = {bytes.begin(), bytes.end()};
  } else {
    const auto bytes = beacon_id::eddystoneUidServiceData(id);
    data.serviceUuids = {"FEAA"};
    data.serviceData["FEAA"] = {bytes.begin(), bytes.end()};
  }
  return data;
}

std::string isoUtc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const auto days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{ms}});
  const std::chrono::year_month_day ymd{days};
  const auto rest = std::chrono::milliseconds{ms} - days.time_since_epoch();
  const std::chrono::hh_mm_ss hms{rest};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

int advertise(const Options& options, const BeaconSettings& settings, Environment& env) {
  ble_scan::AdvertiserOptions ao;
  ao.adapterName = options.adapter;
  ao.interval = options.interval;
  auto source = [&](std::chrono::system_clock::time_point now) {
    ble_scan::Broadcast b;
    auto plan = planAt(settings, options.eventId, now);
    if (!plan) {  // checked before start; only a clock before 1970 gets here
      plan = Plan{settings.bleUuid, false, {}, std::nullopt};
    }
    b.data = advertisingData(options.format, plan->id);
    b.until = plan->until;
    b.label = plan->id.toString();
    support::log::info("beacon.broadcast", {{"id", b.label},
                                            {"mode", plan->privateId ? "private" : "static"},
                                            {"event", plan->eventId},
                                            {"until", plan->until ? isoUtc(*plan->until) : std::string{}}});
    return b;
  };
  auto created = ble_scan::BluezAdvertiser::create(ao, env.time, source);
  if (!created) {
    return fail(env, kExitBluetooth, created.error().message);
  }
  auto& advertiser = **created;
  if (env.advertiserChanged) {
    env.advertiserChanged(&advertiser);
  }
  int code = kExitOk;
  if (auto started = advertiser.start(); !started) {
    code = fail(env, kExitBluetooth, started.error().message);
  }
  while (code == kExitOk && !env.stopRequested()) {
    if (auto r = advertiser.poll(std::chrono::seconds{1}); !r) {
      code = fail(env, kExitBluetooth, r.error().message);
    }
  }
  advertiser.stop();
  if (env.advertiserChanged) {
    env.advertiserChanged(nullptr);
  }
  support::log::info("beacon.stopped", {{"registrations", advertiser.counters().registrations},
                                        {"rotations", advertiser.counters().rotations}});
  return code;
}

}  // namespace

int run(const Options& options, Environment& env) {
  BeaconSettings settings;
  std::string json;
  if (!options.settingsFile.empty()) {
    auto loaded = loadSettingsFile(options.settingsFile);
    if (!loaded) {
      return fail(env, kExitUsage, loaded.error().message);
    }
    settings = std::move(*loaded);
    if (!options.saveSettingsFile.empty()) {
      std::ifstream in{options.settingsFile, std::ios::binary};
      json.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    }
  } else {
    std::string why;
    const auto password = readPassword(options.passwordFile, why);
    if (!password) {
      return fail(env, kExitUsage, why);
    }
    auto fetched = fetchSettings(options.backendUrl, options.caFile, options.email, *password, env.time);
    if (fetched.exitCode != kExitOk) {
      return fail(env, fetched.exitCode, fetched.message);
    }
    auto parsed = parseSettings(fetched.json);
    if (!parsed) {
      return fail(env, kExitBackend, "GET /api/me/beacon: " + parsed.error().message);
    }
    settings = std::move(*parsed);
    json = std::move(fetched.json);
  }
  if (!options.saveSettingsFile.empty()) {
    if (auto saved = saveSettingsFile(options.saveSettingsFile, json); !saved) {
      return fail(env, kExitUsage, saved.error().message);
    }
  }
  const auto at = options.idAt ? *options.idAt : env.time.systemTime();
  auto plan = planAt(settings, options.eventId, at);
  if (!plan) {
    return fail(env, kExitUsage, plan.error().message);
  }
  if (options.idAt) {
    env.out << plan->id.toString() << "\n";
    return kExitOk;
  }
  return advertise(options, settings, env);
}

}  // namespace attendance::beacon
