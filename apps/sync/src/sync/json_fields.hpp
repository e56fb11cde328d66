#pragma once

// Reading numbers out of JSON the sync did not write itself (the backend's
// answers, a checkpoint file that may be damaged): wrong types are "absent".
#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

namespace attendance::sync {

// True and sets `out` when `key` holds a non-negative integer.
inline bool readUnsigned(const boost::json::object& o, std::string_view key, std::uint64_t& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return false;
  if (v->is_uint64()) {
    out = v->as_uint64();
    return true;
  }
  if (v->is_int64() && v->as_int64() >= 0) {
    out = static_cast<std::uint64_t>(v->as_int64());
    return true;
  }
  return false;
}

}  // namespace attendance::sync
