#pragma once

// Private: the backend's derivation of rotating-id instances for its resolver index.
#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/support/ble_namespace.hpp>

#include <span>

namespace attendance::core::detail {

// out[i] = beacon_id::instanceFor(key, ns, first + i), computed with OpenSSL's SHA-256, which uses the
// CPU's SHA instructions (x86 SHA-NI, ARMv8 SHA-2) where there are any: about three times faster than
// libsodium's portable SHA-256 on the machine measured (docs/benchmarks-core.md, "Private rotating ids").
// A beacon_id::InstanceDeriver, for beacon_id::Resolver::create.
void deriveInstances(const beacon_id::IdentityKey& key, const support::BleNamespace& ns, beacon_id::Window first,
                     std::span<beacon_id::Instance> out) noexcept;

}  // namespace attendance::core::detail
