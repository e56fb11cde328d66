#pragma once

#include "sync/run.hpp"

#include <string_view>

// How attendance-sync talks to the operator on stderr, shared by the files of the run.
namespace attendance::sync {

inline void fail(Environment& env, std::string_view message) {
  env.err << "attendance-sync: error: " << message << "\n";
}
inline void note(Environment& env, std::string_view message) { env.err << "attendance-sync: " << message << "\n"; }

}  // namespace attendance::sync
