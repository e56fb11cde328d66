#pragma once

#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

// The project's one error vocabulary (docs/adr/0003-errors-as-values.md):
//   Result<T>  - a code only, for failures a program branches on and a caller
//                can describe itself (a bad id, a full queue, a closed pool);
//   Outcome<T> - a code and a sentence for the operator, for failures whose cause
//                only the failing code knows (which file, which PID holds a lock,
//                what the D-Bus error name was).
// Exceptions only at application edges and start-up.
namespace attendance {

// Libraries report failures as values (GCC 12 has no std::expected).
template <class T>
using Result = boost::system::result<T>;

using boost::system::error_code;

// `code` is what programs branch on (ENOSPC, EWOULDBLOCK, errc::invalid_argument);
// `message` names the real cause for a person ("log /x is locked by PID 42").
struct Failure {
  error_code code;
  std::string message;
};

template <class T>
using Outcome = boost::system::result<T, Failure>;

// Lets Outcome<T>::value() throw boost::system::system_error (application edges only).
[[noreturn]] void throw_exception_from_error(const Failure& failure, const boost::source_location& loc);

}  // namespace attendance
