#include <attendance/dedup_cache/dedup_cache.hpp>

#include <bit>
#include <cstring>
#include <limits>
#include <random>
#include <utility>

namespace attendance::dedup_cache {
namespace {

std::uint64_t mix64(std::uint64_t z) noexcept {
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return z;
}

}  // namespace

Result<DedupCache> DedupCache::create(const support::TimeSource& clock, Options options) {
  if (options.window <= std::chrono::milliseconds::zero() || options.capacity == 0 ||
      options.capacity > (std::size_t{1} << 30)) {
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  }
  return DedupCache{clock, options};
}

DedupCache::DedupCache(const support::TimeSource& clock, Options options)
    : clock_(&clock),
      window_(options.window),
      windowNs_(std::chrono::duration_cast<std::chrono::nanoseconds>(options.window).count()),
      capacity_(options.capacity) {
  const std::size_t slots = std::bit_ceil(options.capacity * 2);
  mask_ = slots - 1;
  // Reserved, not constructed: a node's memory is touched when it is first used, so an
  // idle scanner does not hold capacity x 40 B resident (issue 13, memory). No reallocation
  // ever happens (used_ <= capacity_), so admit() still never allocates.
  nodes_.reserve(capacity_);
  index_ = std::make_unique<std::uint32_t[]>(slots);
  std::memset(index_.get(), 0xFF, slots * sizeof(std::uint32_t));
  std::random_device rd;
  hashKey0_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  hashKey1_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

DedupCache::~DedupCache() = default;
DedupCache::DedupCache(DedupCache&&) noexcept = default;
DedupCache& DedupCache::operator=(DedupCache&&) noexcept = default;

std::int64_t DedupCache::nowNs() const noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->monotonicTime().time_since_epoch()).count();
}

bool DedupCache::expired(const Node& n, std::int64_t now) const noexcept {
  // Monotonic time never goes back, but a seeded time could be "in the future" only
  // through a caller bug; treat it as fresh (suppress) rather than overflow.
  return now - n.loggedAtNs >= windowNs_;
}

std::size_t DedupCache::home(const support::Uuid& id) const noexcept {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, id.bytes.data(), 8);
  std::memcpy(&b, id.bytes.data() + 8, 8);
  return static_cast<std::size_t>(mix64(a ^ hashKey0_) + mix64(b ^ hashKey1_)) & mask_;
}

std::uint32_t DedupCache::find(const support::Uuid& id) const noexcept {
  for (std::size_t s = home(id);; s = (s + 1) & mask_) {
    const std::uint32_t n = index_[s];
    if (n == kNone) return kNone;
    if (nodes_[n].key == id) return n;
  }
}

void DedupCache::unlink(std::uint32_t node) noexcept {
  Node& n = nodes_[node];
  if (n.prev != kNone)
    nodes_[n.prev].next = n.next;
  else
    head_ = n.next;
  if (n.next != kNone)
    nodes_[n.next].prev = n.prev;
  else
    tail_ = n.prev;
  n.prev = n.next = kNone;
}

void DedupCache::pushFront(std::uint32_t node) noexcept {
  Node& n = nodes_[node];
  n.prev = kNone;
  n.next = head_;
  if (head_ != kNone) nodes_[head_].prev = node;
  head_ = node;
  if (tail_ == kNone) tail_ = node;
}

void DedupCache::touch(std::uint32_t node) noexcept {
  if (head_ == node) return;
  unlink(node);
  pushFront(node);
}

void DedupCache::eraseFromIndex(std::uint32_t slot) noexcept {
  // Backward-shift deletion keeps probe sequences intact without tombstones.
  std::size_t hole = slot;
  for (std::size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
    const std::uint32_t n = index_[j];
    if (n == kNone) break;
    const std::size_t h = home(nodes_[n].key);
    // Move n into the hole unless its home lies cyclically in (hole, j].
    if (((j - h) & mask_) >= ((j - hole) & mask_)) {
      index_[hole] = n;
      nodes_[n].slot = static_cast<std::uint32_t>(hole);
      hole = j;
    }
  }
  index_[hole] = kNone;
}

std::uint32_t DedupCache::insert(const support::Uuid& id, std::int64_t loggedAtNs) noexcept {
  std::uint32_t node;
  if (used_ < capacity_) {
    node = used_++;
    nodes_.emplace_back();
    ++size_;
  } else {
    node = tail_;
    if (!expired(nodes_[node], nowNs())) ++stats_.evictions;
    eraseFromIndex(nodes_[node].slot);
    unlink(node);
  }
  std::size_t s = home(id);
  while (index_[s] != kNone) s = (s + 1) & mask_;
  index_[s] = node;
  Node& n = nodes_[node];
  n.key = id;
  n.loggedAtNs = loggedAtNs;
  n.slot = static_cast<std::uint32_t>(s);
  pushFront(node);
  return node;
}

bool DedupCache::admit(const support::Uuid& id) noexcept {
  const std::int64_t now = nowNs();
  const std::uint32_t found = find(id);
  if (found != kNone) {
    Node& n = nodes_[found];
    touch(found);
    if (!expired(n, now)) {
      ++stats_.suppressed;
      return false;
    }
    n.loggedAtNs = now;
    ++stats_.admitted;
    return true;
  }
  insert(id, now);
  ++stats_.admitted;
  return true;
}

bool DedupCache::contains(const support::Uuid& id) const noexcept {
  const std::uint32_t found = find(id);
  return found != kNone && !expired(nodes_[found], nowNs());
}

void DedupCache::seed(const support::Uuid& id, std::chrono::steady_clock::time_point loggedAt) noexcept {
  const std::int64_t at = std::chrono::duration_cast<std::chrono::nanoseconds>(loggedAt.time_since_epoch()).count();
  const std::int64_t now = nowNs();
  if (now - at >= windowNs_) return;
  const std::uint32_t found = find(id);
  if (found != kNone) {
    Node& n = nodes_[found];
    if (at > n.loggedAtNs) n.loggedAtNs = at;
    touch(found);
    return;
  }
  insert(id, at);
}

}  // namespace attendance::dedup_cache
