#pragma once

#include <string>

namespace attendance::core {

// Why the most recent attempt of this process to open a database connection
// failed, in words a person can act on; empty when that attempt succeeded (or
// none was made). Process-wide, not per pool: enough for a tool with one pool
// that has just been told Errc::unavailable. Connection pools
// answer only Errc::unavailable (the cause is logged as db.connect_failed); the
// command-line tools add this to their error line:
//   database unavailable: role "root" does not exist
// It is libpq's first line: for a refusal by the server its reason alone
// ("role \"root\" does not exist", "password authentication failed for user
// \"x\""), else the whole line ("connection to server at \"127.0.0.1\", port 1
// failed: Connection refused"). A password of the connection string is never
// part of it.
[[nodiscard]] std::string lastConnectFailure();

// The reason above from one libpq message (exposed for tests): first line,
// server refusals without the "connection to server ... failed: FATAL:" prefix,
// `password` (when not empty) replaced by "***".
[[nodiscard]] std::string describeConnectFailure(const std::string& libpqMessage, const std::string& password);

}  // namespace attendance::core
