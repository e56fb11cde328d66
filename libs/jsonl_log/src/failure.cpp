#include "attendance/jsonl_log/failure.hpp"

#include <boost/system/system_error.hpp>

namespace attendance::jsonl_log {

void throw_exception_from_error(const Failure& failure, const boost::source_location&) {
  throw boost::system::system_error(failure.code, failure.message);
}

}  // namespace attendance::jsonl_log
