#include "attacks.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "support/raw_socket.hpp"
#include "support/admin_form.hpp"

namespace attendance::bench {

namespace {

using attendance::testing::bytesUntilRefused;
using attendance::testing::RawSocket;
using attendance::testing::statusOf;
using namespace std::chrono_literals;

// The n-th attacker address of block b: 127.b.x.y (the load drivers' clients use blocks 0-2).
std::string source(int block, int n) { return fmt::format("127.{}.{}.{}", block, (n / 250) % 250, 1 + n % 250); }

// Connects, or counts the failure and backs off a moment (the listen queue was full).
std::unique_ptr<RawSocket> connectFrom(const AttackTarget& t, const std::string& from, AttackTally& tally,
                                       std::uint16_t port = 0) {
  try {
    return std::make_unique<RawSocket>(port != 0 ? port : t.port, from.c_str());
  } catch (const std::exception&) {
    tally.answer(-1);
    std::this_thread::sleep_for(1ms);
    return nullptr;
  }
}

// Sends `header`, then `piece` until the server answers or `cap` bytes went out,
// and counts the answer: the loop of one endless-framing attacker.
void framingAttack(const AttackTarget& t, int block, int thread, int threads, const std::atomic<bool>& stop,
                   AttackTally& tally, const std::string& header, const std::string& piece, std::size_t cap) {
  for (int n = thread; !stop.load(); n += threads) {
    auto s = connectFrom(t, source(block, n % 1000), tally);
    if (!s) continue;
    const auto sent = bytesUntilRefused(*s, header, piece, cap);
    tally.sent(sent.value_or(cap));
    tally.answer(statusOf(s->readAll(500ms)));
  }
}

// A request that is answered and closed: sends it, reads the answer to the end.
void oneShot(const AttackTarget& t, const std::string& from, const std::string& request, AttackTally& tally,
             std::chrono::milliseconds wait, std::uint16_t port = 0) {
  auto s = connectFrom(t, from, tally, port);
  if (!s) return;
  if (s->send(request, 5s)) tally.sent(request.size());
  tally.answer(statusOf(s->readAll(wait)));
}

// Holds `count` silent sockets from `addresses` addresses of `block`; a socket the
// server closes (429 at once past the per-address cap, eviction, the 10 s header
// timeout) is opened again a second later, as its Retry-After asks.
void holdSilentSockets(const AttackTarget& t, int block, int addresses, int count, const std::atomic<bool>& stop,
                       AttackTally& tally) {
  struct Slot {
    std::unique_ptr<RawSocket> socket;
    std::chrono::steady_clock::time_point reopenAt{};
  };
  std::vector<Slot> slots(static_cast<std::size_t>(count));
  while (!stop.load()) {
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < slots.size() && !stop.load(); ++i) {
      Slot& slot = slots[i];
      if (!slot.socket) {
        if (now < slot.reopenAt) continue;
        slot.socket = connectFrom(t, source(block, static_cast<int>(i) % addresses), tally);
        if (!slot.socket) slot.reopenAt = now + 1s;
        continue;
      }
      if (slot.socket->answered(0ms)) {
        tally.answer(statusOf(slot.socket->readAll(20ms)));
        slot.socket.reset();
        slot.reopenAt = now + 1s;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
}

const std::string kChunkedSignIn =
    "POST /api/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string postJson(const std::string& path, const std::string& body, const std::string& extraHeaders = {}) {
  return fmt::format(
      "POST {} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{}Connection: close\r\nContent-Length: "
      "{}\r\n\r\n{}",
      path, extraHeaders, body.size(), body);
}

// {"eventId":"…","records":[1,1,…,1]}: numbers where records belong, just under 16 MB.
std::shared_ptr<const std::string> bodyOfNumbers(const std::string& eventId) {
  std::string body = fmt::format(R"({{"eventId":"{}","records":[)", eventId);
  const std::size_t target = 16'000'000;
  body.reserve(target);
  while (body.size() + 4 < target) body += "1,";
  body += "1]}";
  return std::make_shared<const std::string>(std::move(body));
}

// The console's sign-in form: its double-submit cookie and field, from GET /login.
struct LoginForm {
  std::string cookie;
  std::string csrf;
};
std::optional<LoginForm> loginForm(const AttackTarget& t, AttackTally& tally) {
  auto s = connectFrom(t, "127.31.0.1", tally, t.adminPort);
  if (!s || !s->send("GET /login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")) return std::nullopt;
  const std::string page = s->readAll(5s);
  LoginForm form{testing::setCookieValue(page, "attendance_login"), testing::csrfField(page)};
  if (form.cookie.empty() || form.csrf.empty()) return std::nullopt;
  return form;
}

}  // namespace

std::vector<Attack> sectionOneAttacks() {
  std::vector<Attack> out;
  out.push_back({"chunk-extension",
                 "endless chunk extension (4 connections at a time, POST /api/sessions, 1,000 addresses)", 4,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   framingAttack(t, 20, thread, 4, stop, tally, kChunkedSignIn + "1;ext=", std::string(16 * 1024, 'e'),
                                 1024 * 1024);
                 }});
  out.push_back({"trailer", "endless trailer (4 connections at a time, POST /api/sessions, 1,000 addresses)", 4,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   framingAttack(t, 21, thread, 4, stop, tally,
                                 kChunkedSignIn + "3\r\nabc\r\n0\r\nX-Trailer: ", std::string(16 * 1024, 't'),
                                 1024 * 1024);
                 }});
  out.push_back({"tiny-chunks", "1-byte chunks with 2 KB extensions (4 connections at a time, 1,000 addresses)", 4,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   framingAttack(t, 22, thread, 4, stop, tally, kChunkedSignIn,
                                 "1;" + std::string(2000, 'e') + "\r\nx\r\n", 1024 * 1024);
                 }});
  out.push_back({"no-key-16mb-expect", "16 MB POST /batchCheckIn without a key, Expect: 100-continue (4 at a time)", 4,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   const std::string header =
                       "POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       "Expect: 100-continue\r\nContent-Length: 16000000\r\n\r\n";
                   for (int n = thread; !stop.load(); n += 4) oneShot(t, source(23, n % 1000), header, tally, 2s);
                 }});
  out.push_back({"no-key-16mb", "16 MB POST /batchCheckIn without a key, body sent at once (4 at a time)", 4,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   const std::string header =
                       "POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       "Content-Length: 16000000\r\n\r\n";
                   framingAttack(t, 24, thread, 4, stop, tally, header, std::string(64 * 1024, '1'), 16'000'000);
                 }});
  out.push_back({"idle-one-address",
                 "1,000 silent sockets from one address (cap 128), each reopened 1 s after it is closed", 1,
                 [](const AttackTarget& t, int, const std::atomic<bool>& stop, AttackTally& tally) {
                   holdSilentSockets(t, 25, 1, 1000, stop, tally);
                 }});
  out.push_back({"idle-every-slot",
                 "1,200 silent sockets from 12 addresses (all 1,024 slots), each reopened 1 s after it is closed", 1,
                 [](const AttackTarget& t, int, const std::atomic<bool>& stop, AttackTally& tally) {
                   holdSilentSockets(t, 26, 12, 1200, stop, tally);
                 }});
  out.push_back({"sign-in-burst", "sign-ins at real Argon2id cost, 32 at a time, unknown emails, 1,000 addresses", 32,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   for (int n = thread; !stop.load(); n += 32) {
                     oneShot(t, source(27, n % 1000),
                             postJson("/api/sessions",
                                      fmt::format(R"({{"email":"burst{}@example.com","password":"guess-{}"}})", n, n)),
                             tally, 30s);
                   }
                 }});
  out.push_back({"password-guessing", "guessing one participant's password from one address, 2 at a time", 2,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   for (int n = thread; !stop.load(); n += 2) {
                     oneShot(t, source(28, 0),
                             postJson("/api/sessions",
                                      fmt::format(R"({{"email":"{}","password":"guess-{}"}})", t.victimEmail, n)),
                             tally, 30s);
                   }
                 }});
  out.push_back({"utf8-params", "%FF in path and query parameters (4 at a time)", 4,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   const std::string requests[] = {
                       "GET /api/events/%FF/roster HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                       "GET /api/events?q=%C3%28 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                       "POST /api/events/%ED%A0%80/registrations HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       "Content-Length: 0\r\n\r\n"};
                   for (int n = thread; !stop.load(); n += 4)
                     oneShot(t, source(29, n % 1000), requests[n % 3], tally, 2s);
                 }});
  out.push_back({"valid-key-numbers", "a valid scanner key and a 16 MB body of numbers (2 at a time)", 2,
                 [](const AttackTarget& t, int, const std::atomic<bool>& stop, AttackTally& tally) {
                   const auto body = bodyOfNumbers(t.eventId);
                   const std::string header = fmt::format(
                       "POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n"
                       "Content-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                       t.stolenKey, body->size());
                   while (!stop.load()) {
                     auto s = connectFrom(t, "127.30.0.1", tally);
                     if (!s) continue;
                     if (s->send(header) && s->send(*body, 5s)) tally.sent(header.size() + body->size());
                     tally.answer(statusOf(s->readAll(30s)));
                   }
                 }});
  out.push_back({"admin-sign-in-burst",
                 "the same burst at the admin console's sign-in (32 at a time, unknown emails, 1,000 addresses)", 32,
                 [](const AttackTarget& t, int thread, const std::atomic<bool>& stop, AttackTally& tally) {
                   std::optional<LoginForm> form;
                   while (!form && !stop.load()) form = loginForm(t, tally);
                   for (int n = thread; form && !stop.load(); n += 32) {
                     const std::string body =
                         fmt::format("csrf={}&email=burst{}%40example.com&password=guess-{}", form->csrf, n, n);
                     oneShot(t, source(31, n % 1000),
                             fmt::format("POST /login HTTP/1.1\r\nHost: t\r\nCookie: attendance_login={}\r\n"
                                         "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
                                         "Content-Length: {}\r\n\r\n{}",
                                         form->cookie, body.size(), body),
                             tally, 30s, t.adminPort);
                   }
                 }});
  return out;
}

}  // namespace attendance::bench
