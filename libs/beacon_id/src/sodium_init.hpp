#pragma once

#include <sodium.h>

#include <cassert>

namespace attendance::beacon_id::detail {

// libsodium asks for sodium_init() before any other call; it is idempotent and thread-safe,
// and only fails when the library cannot initialise at all (then nothing here could work).
inline void ensureSodium() noexcept {
  static const int rc = sodium_init();
  assert(rc >= 0);
  (void)rc;
}

}  // namespace attendance::beacon_id::detail
