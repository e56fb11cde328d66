#pragma once

#include <string_view>
#include <vector>

namespace attendance::core::detail {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// In ascending version order, versions 1..N without gaps (checked by migrate()).
const std::vector<Migration>& embeddedMigrations();

}  // namespace attendance::core::detail
