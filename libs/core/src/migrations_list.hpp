#pragma once

#include <string_view>
#include <vector>

namespace attendance::core::detail {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// In strictly ascending version order (checked by CMake and by migrate()).
const std::vector<Migration>& embeddedMigrations();

}  // namespace attendance::core::detail
