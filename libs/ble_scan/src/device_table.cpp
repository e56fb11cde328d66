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

void DeviceTable::queueRemoval(const std::string& path, DeviceInfo& dev) {
  if (dev.keep || dev.removalQueued) {
    return;
  }
  dev.removalQueued = true;
  removalQueue_.push_back(path);
}

void DeviceTable::sweepStale(Clock::time_point now) {
  if (now - lastStaleSweep_ < std::chrono::seconds{1} && devices_.size() <= maxTrackedDevices_) {
    return;
  }
  lastStaleSweep_ = now;
  for (auto& [path, dev] : devices_) {
    if (!dev.keep && now - dev.lastSeen >= staleDeviceAge_) {
      queueRemoval(path, dev);
    }
  }
  // Bound the cache: evict least recently seen beyond the limit.
  std::size_t live = 0;
  for (const auto& [path, dev] : devices_) {
    live += dev.removalQueued ? 0U : 1U;
  }
  for (; live > maxTrackedDevices_; --live) {
    DeviceInfo* oldest = nullptr;
    const std::string* oldestPath = nullptr;
    for (auto& [path, dev] : devices_) {
      if (!dev.keep && !dev.removalQueued && (oldest == nullptr || dev.lastSeen < oldest->lastSeen)) {
        oldest = &dev;
        oldestPath = &path;
      }
    }
    if (oldest == nullptr) {
      break;
    }
    queueRemoval(*oldestPath, *oldest);
  }
}

std::optional<Removal> DeviceTable::nextRemoval() {
  while (removalsCanMove()) {
    std::string path = std::move(removalQueue_.back());
    removalQueue_.pop_back();
    auto it = devices_.find(path);
    if (it == devices_.end()) {
      continue;  // gone meanwhile (InterfacesRemoved)
    }
    Removal r{it->second.adapterPath, std::move(path)};
    devices_.erase(it);
    ++removalsInFlight_;
    return r;
  }
  return std::nullopt;
}

std::optional<DeviceTable::Clock::time_point> DeviceTable::nextSweep() const {
  if (devices_.empty()) {
    return std::nullopt;
  }
  return lastStaleSweep_ + std::chrono::seconds{1};
}

}  // namespace attendance::ble_scan::detail
