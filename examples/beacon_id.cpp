// attendance::beacon_id: private rotating ids. A phone broadcasts namespace ‖ instance, the instance
// derived from its secret key and the time window; only the key holder (the backend) resolves it.
#include <array>
#include <cstdio>

#include <attendance/beacon_id/advert.hpp>
#include <attendance/beacon_id/resolver.hpp>
#include <attendance/beacon_id/rotating_id.hpp>
#include <attendance/support/ble_namespace.hpp>

int main() {
  namespace beacon = attendance::beacon_id;
  const auto ns = *attendance::support::BleNamespace::parseHex("edd1ebeac04e5defa017");  // the deployment's
  const std::array<beacon::IdentityKey, 2> keys{
      *beacon::IdentityKey::parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
      *beacon::IdentityKey::parseHex("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100")};
  const beacon::RotationPeriod period;  // 15 minutes
  const std::int64_t now = 1721471400000;

  // The phone's side: the id for this window, and the iBeacon bytes that carry it.
  const auto id = beacon::bleUuidAt(keys[1], ns, period, now);
  if (!id) return 1;
  const auto frame = beacon::iBeaconManufacturerData(*id);  // after company id 0x004C
  std::printf("broadcast %s in a %zu-byte iBeacon frame\n", id->toString().c_str(), frame.size());

  // The backend's side: index the windows of the event once, then each sighting is one lookup.
  const auto window = beacon::windowAt(now, period);
  if (!window) return 2;
  auto resolver =
      beacon::Resolver::create(ns, keys, {.period = period, .firstWindow = *window - 4, .lastWindow = *window + 4});
  if (!resolver) return 3;
  const auto seen = resolver->resolve(*id, now + 60'000);  // heard a minute later by a scanner
  if (!seen) return 4;
  std::printf("%s: participant %zu\n", std::string(beacon::verdictName(seen->verdict)).c_str(), seen->participant);
  return seen->verdict == beacon::Verdict::matched && seen->participant == 1 ? 0 : 5;
}
