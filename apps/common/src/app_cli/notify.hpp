#pragma once

// The servers' side of a systemd Type=notify unit (docs/packaging.md, "Units"):
// READY=1 once the socket listens, so `systemctl start` returns when the server
// accepts connections and a unit ordered After= it starts only then.
#include <string_view>

namespace attendance::app_cli {

// Sends READY=1 and STATUS=<status> to $NOTIFY_SOCKET; does nothing when systemd
// did not start the process (no NOTIFY_SOCKET). Never fails the caller.
void notifyReady(std::string_view status);

}  // namespace attendance::app_cli
