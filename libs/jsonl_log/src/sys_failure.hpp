#pragma once

#include <cstring>
#include <string>

#include <attendance/jsonl_log/failure.hpp>

namespace attendance::jsonl_log::detail {

// A failed system call as a Failure: errno as the code, "<what>: <strerror>" for the operator.
inline Failure sysFailure(int err, std::string what) {
  what += ": ";
  what += std::strerror(err);
  return Failure{{err, boost::system::system_category()}, std::move(what)};
}

}  // namespace attendance::jsonl_log::detail
