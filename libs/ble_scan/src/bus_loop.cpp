#include "bus_loop.hpp"

#include <attendance/support/log.hpp>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace attendance::ble_scan::detail {

Failure busFailure(const sdbus::Error& e, std::string_view doing) {
  return Failure{boost::system::errc::make_error_code(boost::system::errc::connection_aborted),
                 std::string{doing} + ": " + e.getName() + ": " + e.getMessage()};
}

namespace {
Outcome<std::unique_ptr<sdbus::IConnection>> connectTo(std::string_view address) {
  try {
    if (address.empty()) {
      return sdbus::createSystemBusConnection();
    }
    return sdbus::createSessionBusConnectionWithAddress(std::string{address});
  } catch (const sdbus::Error& e) {
    support::log::error("ble.bus_connect_failed", {{"error", e.getName()}, {"message", e.getMessage()}});
    return busFailure(e, address.empty() ? std::string{"no system D-Bus (is bluetoothd running?)"}
                                         : "cannot connect to the D-Bus at " + std::string{address});
  }
}

}  // namespace

BusLoop::BusLoop(std::unique_ptr<sdbus::IConnection> conn, int wakeFd) : conn_(std::move(conn)), wakeFd_(wakeFd) {}

BusLoop::~BusLoop() {
  proxies_.clear();
  if (wakeFd_ >= 0) {
    ::close(wakeFd_);
  }
}

Outcome<std::unique_ptr<BusLoop>> BusLoop::make(Outcome<std::unique_ptr<sdbus::IConnection>> conn) {
  if (!conn) {
    return conn.error();
  }
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    const error_code ec{errno, boost::system::system_category()};
    return Failure{ec, "eventfd: " + ec.message()};
  }
  return std::unique_ptr<BusLoop>{new BusLoop(std::move(*conn), fd)};
}

Outcome<std::unique_ptr<BusLoop>> BusLoop::system() { return make(connectTo({})); }

Outcome<std::unique_ptr<BusLoop>> BusLoop::at(std::string_view address) { return make(connectTo(address)); }

void BusLoop::callAsync(const std::string& path, const char* iface, const char* method,
                        const std::function<void(sdbus::MethodCall&)>& args, ReplyHandler onReply,
                        std::chrono::microseconds timeout) {
  try {
    auto& proxy = proxies_[path];
    if (!proxy) {
      proxy = sdbus::createProxy(*conn_, kBluezService, path);
    }
    auto msg = proxy->createMethodCall(iface, method);
    if (args) {
      args(msg);
    }
    (void)proxy->callMethod(
        msg,
        [onReply = std::move(onReply)](sdbus::MethodReply& reply, const sdbus::Error* error) {
          if (onReply) {
            onReply(error, reply);
          }
        },
        static_cast<std::uint64_t>(timeout.count()));
  } catch (const sdbus::Error& e) {
    sdbus::MethodReply none;
    if (onReply) {
      onReply(&e, none);
    }
  }
}

sdbus::Slot BusLoop::watchBluezOwner(OwnerChanged onChange, std::function<void()> onMalformed) {
  return conn_->addMatch(
      "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',"
      "arg0='org.bluez'",
      [onChange = std::move(onChange), onMalformed = std::move(onMalformed)](sdbus::Message& msg) {
        std::string name;
        std::string oldOwner;
        std::string newOwner;
        try {
          msg >> name >> oldOwner >> newOwner;
        } catch (const sdbus::Error&) {
          if (onMalformed) {
            onMalformed();
          }
          return;
        }
        if (name != kBluezService) {
          return;
        }
        support::log::info("ble.bluez_owner_changed", {{"old", oldOwner}, {"new", newOwner}});
        onChange(oldOwner, newOwner);
      });
}

std::string BusLoop::nameOwner(const std::string& name, std::chrono::microseconds timeout) {
  try {
    auto proxy = sdbus::createProxy(*conn_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    auto msg = proxy->createMethodCall("org.freedesktop.DBus", "GetNameOwner");
    msg << name;
    auto reply = proxy->callMethod(msg, static_cast<std::uint64_t>(timeout.count()));
    std::string owner;
    reply >> owner;
    return owner;
  } catch (const sdbus::Error&) {
    return {};  // NameHasNoOwner: wait for NameOwnerChanged
  }
}

Outcome<void> BusLoop::processPending() {
  try {
    for (int i = 0; i < 100000 && conn_->processPendingRequest(); ++i) {
    }
  } catch (const sdbus::Error& e) {
    support::log::error("ble.bus_lost", {{"error", e.getName()}, {"message", e.getMessage()}});
    return busFailure(e, "lost the D-Bus connection");
  }
  return {};
}

Outcome<void> BusLoop::wait(std::chrono::milliseconds maxWait) {
  sdbus::IConnection::PollData pd{};
  try {
    pd = conn_->getEventLoopPollData();
  } catch (const sdbus::Error& e) {
    return busFailure(e, "lost the D-Bus connection");
  }
  auto waitMs = static_cast<long long>(maxWait.count());
  if (pd.timeout_usec != UINT64_MAX) {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto nowUs =
        static_cast<std::uint64_t>(ts.tv_sec) * 1000000ULL + static_cast<std::uint64_t>(ts.tv_nsec) / 1000ULL;
    const auto rel = pd.timeout_usec > nowUs ? static_cast<long long>((pd.timeout_usec - nowUs + 999) / 1000) : 0LL;
    waitMs = std::min<long long>(waitMs, rel);
  }
  pollfd fds[2] = {{pd.fd, pd.events, 0}, {wakeFd_, POLLIN, 0}};
  const int n = ::poll(fds, 2, static_cast<int>(std::clamp<long long>(waitMs, 0, 60000)));
  if (n < 0 && errno != EINTR) {
    const error_code ec{errno, boost::system::system_category()};
    return Failure{ec, "poll() on the D-Bus connection: " + ec.message()};
  }
  if ((fds[1].revents & POLLIN) != 0) {
    std::uint64_t v = 0;
    (void)!::read(wakeFd_, &v, sizeof v);
  }
  return {};
}

void BusLoop::wake() noexcept {
  const std::uint64_t one = 1;
  (void)!::write(wakeFd_, &one, sizeof one);
}

}  // namespace attendance::ble_scan::detail
