// attendance::dedup_cache: "was this id logged within the window?" in fixed memory, on an injected clock.
#include <chrono>
#include <cstdio>

#include <attendance/dedup_cache/dedup_cache.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/uuid.hpp>

int main() {
  using namespace std::chrono_literals;
  namespace support = attendance::support;
  const auto phone = *support::Uuid::parse("0f8fad5b-d9cb-469f-a165-70867728950e");

  // A simulated clock moves only when told to; a real program passes support::RealTimeSource.
  support::SimulatedTimeSource clock;
  auto created = attendance::dedup_cache::DedupCache::create(clock, {.window = 5min, .capacity = 1024});
  if (!created) return 1;  // a window <= 0 or a capacity out of range: an error value, not an exception
  auto& seen = *created;

  const bool first = seen.admit(phone);  // true: log it
  clock.advance(1min);
  const bool again = seen.admit(phone);  // false: inside the window (and the window restarts)
  clock.advance(6min);
  const bool later = seen.admit(phone);  // true: the window has passed

  std::printf("first=%d again=%d later=%d admitted=%llu suppressed=%llu\n", first, again, later,
              static_cast<unsigned long long>(seen.stats().admitted),
              static_cast<unsigned long long>(seen.stats().suppressed));
  return first && !again && later ? 0 : 2;
}
