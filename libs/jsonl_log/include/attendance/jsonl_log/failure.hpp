#pragma once

#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "attendance/support/result.hpp"

namespace attendance::jsonl_log {

// An I/O failure with a sentence for the operator ("log /x is locked by PID 42
// (attendance-scann)"); `code` is what programs branch on (e.g. ENOSPC, EWOULDBLOCK).
struct Failure {
  error_code code;
  std::string message;
};

template <class T>
using Outcome = boost::system::result<T, Failure>;

// Lets Outcome<T>::value() throw (application edges only).
[[noreturn]] void throw_exception_from_error(const Failure& failure, const boost::source_location& loc);

}  // namespace attendance::jsonl_log
