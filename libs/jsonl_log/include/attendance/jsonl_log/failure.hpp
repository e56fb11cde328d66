#pragma once

#include <attendance/support/result.hpp>

namespace attendance::jsonl_log {

// The log's I/O failures are the project's Outcome (a code and a sentence for
// the operator, e.g. "log /x is locked by PID 42 (attendance-scann)").
using attendance::Failure;
using attendance::Outcome;

}  // namespace attendance::jsonl_log
