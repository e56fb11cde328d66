#include "device_table.hpp"

#include "bluez_paths.hpp"

#include <algorithm>

namespace attendance::ble_scan::detail {

DeviceInfo* DeviceTable::find(const std::string& path) {
  auto it = devices_.find(path);
  return it == devices_.end() ? nullptr : &it->second;
}

DeviceInfo& DeviceTable::add(const std::string& path, Clock::time_point firstSeen) {
  auto& dev = devices_[path];
  if (dev.adapterPath.empty()) {
    dev.adapterPath = parentPath(path);
    dev.lastSeen = firstSeen;
  }
  return dev;
}

void DeviceTable::eraseUnder(const std::string& adapterPath) {
  for (auto it = devices_.begin(); it != devices_.end();) {
    it = isUnder(it->first, adapterPath) ? devices_.erase(it) : std::next(it);
  }
  std::erase_if(removalQueue_, [&](const std::string& p) { return isUnder(p, adapterPath); });
}

void DeviceTable::clear() {
  devices_.clear();
  dirty_.clear();
  removalQueue_.clear();
}

void DeviceTable::markDirty(const std::string& path, DeviceInfo& dev) {
  if (!dev.dirty) {
    dev.dirty = true;
    dirty_.push_back(path);
  }
}

void DeviceTable::markCachedWithRssi(const std::string& adapterPath) {
  for (auto& [path, dev] : devices_) {
    if (dev.adapterPath == adapterPath && dev.rssi) {
      markDirty(path, dev);
    }
  }
}

void DeviceTable::flushDirty(const std::function<void(DeviceInfo&)>& report) {
  for (const auto& path : dirty_) {
    auto it = devices_.find(path);
    if (it != devices_.end() && it->second.dirty) {
      it->second.dirty = false;
      report(it->second);
    }
  }
  dirty_.clear();
}

void DeviceTable::collectCandidates(const DeviceInfo& dev, std::vector<Candidate>& out) {
  auto addAll = [&](const std::vector<Candidate>& from) {
    for (const auto& c : from) {
      if (std::none_of(out.begin(), out.end(), [&](const Candidate& x) { return x.bleUuid == c.bleUuid; })) {
        out.push_back(c);
      }
    }
  };
  addAll(dev.fromManufacturer);
  addAll(dev.fromServiceData);
  addAll(dev.fromUuids);
}

void DeviceTable::queueRemoval(const std::string& path) {
  // Forgotten at once, not when the call goes out: removals wait behind kMaxRemovalsInFlight
  // (a slow or hung bluetoothd), and a device waiting there must not hold its cached
  // properties, or the table grows past maxTrackedDevices (issue 13: ~9 500 devices tracked
  // with 10 000 new ones, 2 MiB). Should it advertise before the call goes out, it is
  // adopted again from its PropertiesChanged (as any device we did not see appear).
  removalQueue_.push_back(path);
}

void DeviceTable::sweepStale(Clock::time_point now) {
  if (now - lastStaleSweep_ < std::chrono::seconds{1} && devices_.size() <= maxTrackedDevices_) {
    return;
  }
  lastStaleSweep_ = now;
  std::vector<std::pair<Clock::time_point, std::unordered_map<std::string, DeviceInfo>::iterator>> removable;
  std::size_t live = 0;
  for (auto it = devices_.begin(); it != devices_.end(); ++it) {
    if (it->second.keep) {
      ++live;
    } else if (now - it->second.lastSeen >= staleDeviceAge_) {
      queueRemoval(it->first);
      it->second.removalQueued = true;
    } else {
      ++live;
      removable.emplace_back(it->second.lastSeen, it);
    }
  }
  // Bound the cache: the least recently seen beyond the limit go too.
  if (live > maxTrackedDevices_) {
    const std::size_t over = std::min(live - maxTrackedDevices_, removable.size());
    std::nth_element(removable.begin(), removable.begin() + static_cast<std::ptrdiff_t>(over), removable.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < over; ++i) {
      queueRemoval(removable[i].second->first);
      removable[i].second->second.removalQueued = true;
    }
  }
  std::erase_if(devices_, [](const auto& d) { return d.second.removalQueued; });
}

std::optional<Removal> DeviceTable::nextRemoval() {
  if (!removalsCanMove()) return std::nullopt;
  std::string path = std::move(removalQueue_.back());
  removalQueue_.pop_back();
  ++removalsInFlight_;
  return Removal{parentPath(path), std::move(path)};
}

std::optional<DeviceTable::Clock::time_point> DeviceTable::nextSweep() const {
  if (devices_.empty()) {
    return std::nullopt;
  }
  return lastStaleSweep_ + std::chrono::seconds{1};
}

}  // namespace attendance::ble_scan::detail
