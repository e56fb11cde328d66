#pragma once

#include <string_view>

// The version and git revision of this build (apps/common/revision.cmake writes
// their definitions at build time).
namespace attendance::app_cli {

// The project version of CMakeLists.txt, e.g. "0.1.0".
[[nodiscard]] std::string_view projectVersion() noexcept;
// `git describe --always --dirty` of the source tree when it was built, e.g.
// "35fa0e0" or "35fa0e0-dirty"; "unknown" when it was not a git checkout.
[[nodiscard]] std::string_view gitRevision() noexcept;

}  // namespace attendance::app_cli
