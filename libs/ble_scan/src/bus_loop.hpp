#pragma once

// What the scanner and the advertiser share of talking to BlueZ over sdbus-c++ (ADR 0020):
// one connection driven by the caller's thread, method calls that never block it, a wake-up
// file descriptor, and a wait that honours both sd-bus's own timeouts and the caller's timers.
#include <attendance/support/result.hpp>

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace attendance::ble_scan::detail {

inline constexpr const char* kBluezService = "org.bluez";

// The bus is gone or refused us: the code says so, the message keeps the D-Bus error's
// name and text (org.freedesktop.DBus.Error.FileNotFound: ...) for the operator.
[[nodiscard]] Failure busFailure(const sdbus::Error& e, std::string_view doing);

class BusLoop {
public:
  // The system bus (DBUS_SYSTEM_BUS_ADDRESS honoured): "no system D-Bus (is bluetoothd running?)".
  [[nodiscard]] static Outcome<std::unique_ptr<BusLoop>> system();
  // An explicit bus address ("unix:path=..."), for tests and tools.
  [[nodiscard]] static Outcome<std::unique_ptr<BusLoop>> at(std::string_view address);

  ~BusLoop();
  BusLoop(const BusLoop&) = delete;
  BusLoop& operator=(const BusLoop&) = delete;

  [[nodiscard]] sdbus::IConnection& connection() { return *conn_; }

  // error is nullptr on success; the reply is empty when the call could not even be sent.
  using ReplyHandler = std::function<void(const sdbus::Error* error, sdbus::MethodReply& reply)>;
  // Sends a method call to org.bluez and returns at once: `onReply` runs inside a later
  // processPending() with the reply or the error (the timeout included), or at once when the
  // call cannot be sent.
  void callAsync(const std::string& path, const char* iface, const char* method,
                 const std::function<void(sdbus::MethodCall&)>& args, ReplyHandler onReply,
                 std::chrono::microseconds timeout);

  // Subscribes to org.bluez changing hands (the bus daemon's NameOwnerChanged, arg0='org.bluez'):
  // `onChange` gets the old and new unique owner ("" when BlueZ left), `onMalformed` runs for a
  // signal whose arguments do not decode. The subscription lasts as long as the returned slot.
  using OwnerChanged = std::function<void(const std::string& oldOwner, const std::string& newOwner)>;
  [[nodiscard]] sdbus::Slot watchBluezOwner(OwnerChanged onChange, std::function<void()> onMalformed = {});

  // `name`'s unique owner, "" when it has none. Synchronous, but asks the bus daemon, not BlueZ.
  [[nodiscard]] std::string nameOwner(const std::string& name, std::chrono::microseconds timeout);

  // Dispatches everything queued (signals, replies, incoming method calls); an error when the
  // connection is lost.
  [[nodiscard]] Outcome<void> processPending();
  // Waits up to `maxWait` for bus traffic or wake(), and no longer than sd-bus's next timeout.
  [[nodiscard]] Outcome<void> wait(std::chrono::milliseconds maxWait);
  // Makes a blocked wait() return early. Thread- and async-signal-safe.
  void wake() noexcept;

private:
  BusLoop(std::unique_ptr<sdbus::IConnection> conn, int wakeFd);
  [[nodiscard]] static Outcome<std::unique_ptr<BusLoop>> make(Outcome<std::unique_ptr<sdbus::IConnection>> conn);

  std::unique_ptr<sdbus::IConnection> conn_;
  // One proxy per object path, kept for the connection's lifetime: an asynchronous call's
  // reply is delivered only while its proxy lives.
  std::map<std::string, std::unique_ptr<sdbus::IProxy>> proxies_;
  int wakeFd_ = -1;
};

}  // namespace attendance::ble_scan::detail
