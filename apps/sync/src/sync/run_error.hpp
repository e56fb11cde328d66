#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <utility>

// How attendance-sync's own functions fail. A failure here ends up in front of the
// operator, so it carries what they read and the exit code (docs/sync.md, "Exit
// codes") rather than an error_code: both are decided where the facts are (a path,
// errno, the backend's reason), and runSync/runRoster print the message once, as
// "attendance-sync: error: <message>". Library failures (batch_client::Failure,
// jsonl_log::Failure, Result<T>'s error_code) are turned into a RunError where sync
// calls the library. Pure checks that cannot fail for operator reasons use
// std::optional (no value means "no"), not this.
namespace attendance::sync {

struct RunError {
  // Not an aggregate: RunResult<bool> and RunResult<std::size_t> must not read a
  // number as a RunError. The default one is what result::error() needs.
  RunError() = default;
  RunError(int code, std::string text) : exitCode(code), message(std::move(text)) {}

  int exitCode = 0;
  std::string message;
};

template <class T>
using RunResult = boost::system::result<T, RunError>;

// Lets RunResult<T>::value() throw (ADL hook); sync itself tests and uses operator*.
[[noreturn]] inline void throw_exception_from_error(const RunError& error, const boost::source_location&) {
  throw std::runtime_error(error.message);
}

}  // namespace attendance::sync
