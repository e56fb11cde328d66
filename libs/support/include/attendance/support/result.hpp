#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace attendance {

// Libraries report failures as values (GCC 12 has no std::expected); exceptions
// are for application edges and start-up only.
template <class T>
using Result = boost::system::result<T>;

using boost::system::error_code;

}  // namespace attendance
