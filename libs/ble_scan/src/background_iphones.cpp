#include "background_iphones.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

namespace attendance::ble_scan::detail {

BackgroundIphones::BackgroundIphones(std::chrono::milliseconds window, std::size_t capacity)
    : window_(window), capacity_(capacity) {
  lastSeen_.reserve(capacity_);
}

void BackgroundIphones::seen(std::string_view device, Clock::time_point now) {
  ++frames_;
  const auto key = static_cast<std::uint64_t>(std::hash<std::string_view>{}(device));
  if (const auto it = lastSeen_.find(key); it != lastSeen_.end()) {
    it->second = now;
    return;
  }
  if (lastSeen_.size() >= capacity_) sweep(now);
  if (lastSeen_.size() >= capacity_) return;  // a flood: counted once old ones leave the window
  lastSeen_.emplace(key, now);
  peak_ = std::max(peak_, lastSeen_.size());
}

void BackgroundIphones::expire(Clock::time_point now) {
  if (now - lastSweep_ < std::chrono::seconds{1}) return;
  sweep(now);
}

void BackgroundIphones::sweep(Clock::time_point now) {
  lastSweep_ = now;
  std::erase_if(lastSeen_, [&](const auto& kv) { return now - kv.second > window_; });
  peak_ = std::max(peak_, lastSeen_.size());
}

}  // namespace attendance::ble_scan::detail
