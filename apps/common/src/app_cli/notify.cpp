#include "app_cli/notify.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace attendance::app_cli {

void notifyReady(std::string_view status) {
  const std::string message = "READY=1\nSTATUS=" + std::string(status);
  ::sd_notify(0, message.c_str());
}

}  // namespace attendance::app_cli
