#include <attendance/support/result.hpp>

#include <boost/system/system_error.hpp>

namespace attendance {

void throw_exception_from_error(const Failure& failure, const boost::source_location& /*unused*/) {
  throw boost::system::system_error(failure.code, failure.message);
}

}  // namespace attendance
