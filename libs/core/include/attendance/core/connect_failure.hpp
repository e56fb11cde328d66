#pragma once

#include <string>

namespace attendance::core {

// Why a connection could not be opened, in words a person can act on: what
// ConnectionPool::lastConnectFailure() answers after Errc::unavailable (the
// pool logs the full cause as db.connect_failed); the command-line tools add it
// to their error line:
//   database unavailable: role "root" does not exist
// It is libpq's first line: for a refusal by the server its reason alone
// ("role \"root\" does not exist", "password authentication failed for user
// \"x\""), else the whole line ("connection to server at \"127.0.0.1\", port 1
// failed: Connection refused"). A password of the connection string is never
// part of it.
// That reason from one libpq message (exposed for tests): first line,
// server refusals without the "connection to server ... failed: FATAL:" prefix,
// `password` (when not empty) replaced by "***".
[[nodiscard]] std::string describeConnectFailure(const std::string& libpqMessage, const std::string& password);

}  // namespace attendance::core
