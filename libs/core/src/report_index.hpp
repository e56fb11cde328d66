#pragma once

// Private to the report: a flat hash index from keys to row positions, shared
// by the full build (report.cpp) and the incremental update
// (report_incremental.cpp).
#include <attendance/support/uuid.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace attendance::core::detail {

// Key -> row index, open addressing with linear probing, keys stored in the
// slots: one contiguous array instead of a node per entry. Lookups in the
// report's tables (tens of thousands of bleUuids and user ids) are otherwise
// dominated by cache misses on the nodes (docs/benchmarks-core.md).
// Equality of bleUuids as two 64-bit words (no memcmp call in the probe loop).
struct UuidEq {
  bool operator()(const support::Uuid& a, const support::Uuid& b) const noexcept {
    std::uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    std::memcpy(&a0, a.bytes.data(), 8);
    std::memcpy(&a1, a.bytes.data() + 8, 8);
    std::memcpy(&b0, b.bytes.data(), 8);
    std::memcpy(&b1, b.bytes.data() + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
};

template <class Key, class Hash, class Eq = std::equal_to<Key>>
class FlatIndex {
public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFU;

  explicit FlatIndex(std::size_t expected) { rehash(capacityFor(expected)); }

  // The index stored for key, inserting value first if the key is new; second = inserted.
  std::pair<std::uint32_t, bool> tryEmplace(const Key& key, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    for (std::size_t i = slotOf(key);; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.value == kNone) {
        slot.key = key;
        slot.value = value;
        ++size_;
        return {value, true};
      }
      if (Eq{}(slot.key, key)) return {slot.value, false};
    }
  }

  [[nodiscard]] std::uint32_t find(const Key& key) const {
    for (std::size_t i = slotOf(key);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kNone) return kNone;
      if (Eq{}(slot.key, key)) return slot.value;
    }
  }

private:
  struct Slot {
    Key key{};
    std::uint32_t value = kNone;
  };

  static std::size_t capacityFor(std::size_t expected) {
    std::size_t capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    return capacity;
  }

  [[nodiscard]] std::size_t slotOf(const Key& key) const {
    // Fibonacci hashing: the top bits of the product are well mixed.
    return static_cast<std::size_t>((static_cast<std::uint64_t>(Hash{}(key)) * 0x9E3779B97F4A7C15ULL) >> shift_) &
           mask_;
  }

  void rehash(std::size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64U - static_cast<unsigned>(std::countr_zero(capacity));
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.value != kNone) tryEmplace(slot.key, slot.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;
};

using UuidIndex = FlatIndex<support::Uuid, support::UuidHash, UuidEq>;
using NameIndex = FlatIndex<std::string_view, std::hash<std::string_view>>;

}  // namespace attendance::core::detail
