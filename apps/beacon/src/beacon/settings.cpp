#include "beacon/settings.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attendance::beacon {

namespace {

namespace json = boost::json;

Failure invalid(std::string message) {
  return Failure{boost::system::errc::make_error_code(boost::system::errc::invalid_argument), std::move(message)};
}

Failure fromErrno(int err, std::string doing) {
  const error_code ec{err, boost::system::system_category()};
  return Failure{ec, std::move(doing) + ": " + ec.message()};
}

const json::string* stringAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr ? v->if_string() : nullptr;
}

// An ISO time or null; `ok` false for anything else.
std::optional<std::chrono::system_clock::time_point> timeAt(const json::object& o, std::string_view key, bool& ok) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  if (const auto* s = v->if_string()) {
    if (auto t = parseIsoUtc(*s)) {
      return t;
    }
  }
  ok = false;
  return std::nullopt;
}

int digits(std::string_view text, std::size_t at, std::size_t n, bool& ok) {
  int value = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') {
      ok = false;
      return 0;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parseIsoUtc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':' || (text.back() != 'Z' && text.back() != 'z')) {
    return std::nullopt;
  }
  bool ok = true;
  const int y = digits(text, 0, 4, ok);
  const int mo = digits(text, 5, 2, ok);
  const int d = digits(text, 8, 2, ok);
  const int h = digits(text, 11, 2, ok);
  const int mi = digits(text, 14, 2, ok);
  const int s = digits(text, 17, 2, ok);
  std::chrono::nanoseconds fraction{0};
  if (text.size() > 20) {
    const auto frac = text.substr(19, text.size() - 20);
    if (frac.size() < 2 || frac.size() > 10 || frac[0] != '.') {
      return std::nullopt;
    }
    const int n = static_cast<int>(frac.size()) - 1;
    long long value = digits(frac, 1, static_cast<std::size_t>(n), ok);
    for (int i = n; i < 9; ++i) {
      value *= 10;
    }
    fraction = std::chrono::nanoseconds{value};
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ok || !ymd.ok() || h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  const auto t = std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
                 std::chrono::seconds{s} + fraction;
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(t);
}

Outcome<BeaconSettings> parseSettings(std::string_view text) {
  if (text.size() > kMaxSettingsBytes) {
    return invalid("beacon settings larger than 1 MiB");
  }
  boost::system::error_code ec;
  const auto value = json::parse(text, ec);
  if (ec || !value.is_object()) {
    return invalid("beacon settings are not a JSON object");
  }
  const auto& o = value.get_object();
  BeaconSettings out;
  const auto* ns = stringAt(o, "namespace");
  const auto parsedNs = ns != nullptr ? support::BleNamespace::parseHex(*ns) : std::nullopt;
  if (!parsedNs) {
    return invalid("beacon settings: \"namespace\" must be 20 hex digits");
  }
  out.ns = *parsedNs;
  const auto* uuid = stringAt(o, "bleUuid");
  const auto parsedUuid = uuid != nullptr ? support::Uuid::parse(*uuid) : std::nullopt;
  if (!parsedUuid) {
    return invalid("beacon settings: \"bleUuid\" must be a canonical UUID");
  }
  out.bleUuid = *parsedUuid;
  const auto* period = o.if_contains("periodSeconds");
  const auto seconds = period != nullptr && period->is_int64() ? period->get_int64() : std::int64_t{-1};
  auto rotation = beacon_id::RotationPeriod::create(std::chrono::seconds{seconds});
  if (!rotation) {
    return invalid("beacon settings: \"periodSeconds\" must be a whole number of seconds from 1 to 86400");
  }
  out.period = *rotation;
  const auto* key = o.if_contains("identityKey");
  if (key != nullptr && !key->is_null()) {
    const auto parsedKey = key->is_string() ? beacon_id::IdentityKey::parseHex(key->get_string()) : std::nullopt;
    if (!parsedKey) {
      return invalid("beacon settings: \"identityKey\" must be 64 hex digits or null");
    }
    out.identityKey = *parsedKey;
  }
  const auto* events = o.if_contains("events");
  if (events == nullptr || !events->is_array()) {
    return invalid("beacon settings: \"events\" must be an array");
  }
  for (const auto& e : events->get_array()) {
    const auto* eo = e.if_object();
    const auto* id = eo != nullptr ? stringAt(*eo, "id") : nullptr;
    if (id == nullptr) {
      return invalid("beacon settings: each event needs an \"id\"");
    }
    BeaconEvent event;
    event.id = std::string{*id};
    if (const auto* name = stringAt(*eo, "name")) {
      event.name = std::string{*name};
    }
    bool ok = true;
    event.startsAt = timeAt(*eo, "startsAt", ok);
    event.endsAt = timeAt(*eo, "endsAt", ok);
    if (!ok) {
      return invalid("beacon settings: event " + event.id + ": \"startsAt\"/\"endsAt\" must be ISO UTC times or null");
    }
    const auto* priv = eo->if_contains("privateIds");
    event.privateIds = priv != nullptr && priv->is_bool() && priv->get_bool();
    out.events.push_back(std::move(event));
  }
  return out;
}

Outcome<BeaconSettings> loadSettingsFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fromErrno(errno, "cannot read the settings file " + path.string());
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) <= kMaxSettingsBytes) {
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < text.size()) {
      const auto n = ::read(fd, text.data() + done, text.size() - done);
      if (n <= 0) {
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    text.resize(done);
  } else {
    ::close(fd);
    return invalid("the settings file " + path.string() + " is larger than 1 MiB");
  }
  ::close(fd);
  auto settings = parseSettings(text);
  if (!settings) {
    return invalid(path.string() + ": " + settings.error().message);
  }
  if (settings->identityKey && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return invalid("the settings file " + path.string() + " holds an identity key but others may read it (mode " +
                   mode + "); run: chmod 600 " + path.string());
  }
  return settings;
}

Outcome<void> saveSettingsFile(const std::filesystem::path& path, std::string_view json) {
  const auto tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fromErrno(errno, "cannot write the settings file " + tmp);
  }
  ::fchmod(fd, 0600);  // whatever the umask
  std::size_t done = 0;
  while (done < json.size()) {
    const auto n = ::write(fd, json.data() + done, json.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fromErrno(err, "cannot write the settings file " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  const int syncErr = ::fsync(fd) == 0 ? 0 : errno;
  const int closeErr = ::close(fd) == 0 ? 0 : errno;
  if (syncErr != 0 || closeErr != 0) {
    const int err = syncErr != 0 ? syncErr : closeErr;
    ::unlink(tmp.c_str());
    return fromErrno(err, "cannot write the settings file " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fromErrno(err, "cannot write the settings file " + path.string());
  }
  return {};
}

}  // namespace attendance::beacon
