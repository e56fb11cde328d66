// BlueZ's signals and GetManagedObjects reply, decoded into the device table and the
// discovery policy. No method calls in here: handlers only update the model, so a handler
// never blocks on BlueZ and re-entrancy cannot happen (ADR 0020).
#include "bluez_scanner_impl.hpp"

#include "bluez_paths.hpp"
#include "dbus_decode.hpp"

#include <algorithm>
#include <array>

#include <attendance/support/log.hpp>

namespace attendance::ble_scan {

namespace {
using Clock = std::chrono::steady_clock;
// The private vocabulary of this library: BlueZ names, counters, path helpers.
using namespace detail;
}  // namespace

void BluezScanner::Impl::onBluezOwner(const std::string& newOwner) {
  devices.clear();
  policy.bluezOwnerChanged(newOwner);
}

void BluezScanner::Impl::onInterfacesAdded(sdbus::Message& msg) {
  if (!fromBluez(msg)) {
    return;
  }
  try {
    sdbus::ObjectPath path;
    InterfaceMap ifaces;
    msg >> path >> ifaces;
    addObject(path, ifaces, /*live=*/true);
  } catch (const sdbus::Error&) {
    bump(counters.malformedValues);
  }
}

void BluezScanner::Impl::onInterfacesRemoved(sdbus::Message& msg) {
  if (!fromBluez(msg)) {
    return;
  }
  try {
    sdbus::ObjectPath path;
    std::vector<std::string> ifaces;
    msg >> path >> ifaces;
    for (const auto& iface : ifaces) {
      if (iface == kAdapterIface) {
        if (const auto adapter = detail::parseAdapterPath(path)) devices.eraseUnder(*adapter);
        policy.adapterRemoved(path);
      } else if (iface == kDeviceIface) {
        if (const auto key = detail::parseDevicePath(path)) devices.erase(*key);
      }
    }
  } catch (const sdbus::Error&) {
    bump(counters.malformedValues);
  }
}

void BluezScanner::Impl::onPropertiesChanged(sdbus::Message& msg) {
  if (!fromBluez(msg)) {
    return;
  }
  try {
    std::string iface;
    PropertyMap changed;
    std::vector<std::string> invalidated;
    msg >> iface >> changed >> invalidated;
    const std::string path = msg.getPath();
    if (iface == kAdapterIface) {
      adapterChanged(path, changed);
    } else if (iface == kDeviceIface) {
      const auto key = detail::parseDevicePath(path);
      if (!key) {
        return;  // not a BlueZ device path
      }
      auto* dev = devices.find(*key);
      if (dev == nullptr) {
        // A device we did not see appear (e.g. it was in flight during a resync): adopt it,
        // as not seen yet until it advertises.
        if (!policy.hasAdapter(detail::parentPath(path))) {
          return;
        }
        dev = &devices.add(*key, Clock::time_point{});
      }
      for (const auto& name : invalidated) {
        if (name == "RSSI") {
          dev->rssi.reset();
        }
      }
      deviceUpdate(*key, *dev, changed, /*live=*/true);
    }
  } catch (const sdbus::Error&) {
    bump(counters.malformedValues);
  }
}

void BluezScanner::Impl::addObject(const std::string& path, const InterfaceMap& ifaces, bool live) {
  if (auto a = ifaces.find(kAdapterIface); a != ifaces.end()) {
    policy.adapterAdded(path);
    adapterChanged(path, a->second);
  }
  if (auto d = ifaces.find(kDeviceIface); d != ifaces.end()) {
    if (const auto key = detail::parseDevicePath(path)) {
      deviceUpdate(*key, devices.add(*key, now()), d->second, live);
    }
  }
}

void BluezScanner::Impl::adapterChanged(const std::string& path, const PropertyMap& props) {
  if (!policy.hasAdapter(path)) {
    return;
  }
  // Powered before Discovering: powering off also ends discovery.
  if (auto p = props.find("Powered"); p != props.end()) {
    if (auto v = decode::asBool(p->second)) {
      policy.adapterPowered(path, *v);
    } else {
      bump(counters.malformedValues);
    }
  }
  if (auto p = props.find("Discovering"); p != props.end()) {
    if (auto v = decode::asBool(p->second)) {
      policy.adapterDiscovering(path, *v);
    } else {
      bump(counters.malformedValues);
    }
  }
}

void BluezScanner::Impl::reparseAdvertProperty(const sdbus::Variant& value,
                                               bool (*decodeInto)(const sdbus::Variant&, Advertisement&) noexcept,
                                               detail::DeviceInfo& dev, detail::AdvertProperty property) {
  scratch.clear();
  if (!decodeInto(value, scratch)) {
    bump(counters.malformedValues);
  }
  parsed.clear();
  const auto why = parseAdvertisement(scratch, options.parser, parsed).ignored;
  dev.setCandidates(property, parsed, why);
}

void BluezScanner::Impl::deviceUpdate(detail::DeviceKey key, detail::DeviceInfo& dev, const PropertyMap& props,
                                      bool live) {
  bool advertData = false;
  bool rssiSeen = false;
  for (const auto& [name, value] : props) {
    if (name == "ManufacturerData") {
      advertData = true;
      reparseAdvertProperty(value, &decode::manufacturerData, dev, AdvertProperty::manufacturer_data);
    } else if (name == "ServiceData") {
      advertData = true;
      reparseAdvertProperty(value, &decode::serviceData, dev, AdvertProperty::service_data);
    } else if (name == "UUIDs") {
      advertData = true;
      reparseAdvertProperty(value, &decode::uuids, dev, AdvertProperty::uuids);
    } else if (name == "RSSI") {
      rssiSeen = true;
      if (auto v = decode::asInt16(value)) {
        dev.rssi = *v;
      } else {
        dev.rssi.reset();
        bump(counters.malformedValues);
      }
    } else if (name == "Paired" || name == "Trusted" || name == "Connected") {
      if (auto v = decode::asBool(value); v && *v) {
        dev.keep = true;
      }
    }
  }
  if (!live || (!advertData && !rssiSeen) || detail::parseAdapterPath(policy.currentAdapter()) != key.adapter()) {
    // Cached objects from GetManagedObjects are not sightings unless they carry a
    // fresh RSSI (RSSI is invalidated when discovery stops): see Kind::report_cached.
    return;
  }
  devices.markDirty(key, dev);
}

void BluezScanner::Impl::sighting(detail::DeviceKey key, detail::DeviceInfo& dev) {
  const auto mono = now();
  dev.lastSeen = mono;
  policy.advertisementSeen();
  bump(counters.advertisements);

  candidates.clear();
  detail::DeviceTable::collectCandidates(dev, candidates);
  if (candidates.empty()) {
    bump(counters.ignoredNoise);
    const auto why = dev.ignoredReason();
    if (why == IgnoredReason::apple_overflow_area) {
      bump(counters.appleOverflowFrames);
      std::array<char, 17> address{};
      backgroundIphones.seen(detail::formatAddress(key, address), mono);
      noteBackgroundIphones();
    }
    return;
  }
  // BlueZ OR-merges the filters of all clients: re-check our own floor.
  if (options.rssiMin && dev.rssi && *dev.rssi < *options.rssiMin) {
    bump(counters.belowRssiFloor);
    return;
  }
  const auto wall = time.systemTime();
  const std::string adapter = detail::adapterName(key.adapter());
  std::array<char, 17> addressText{};
  const std::string_view address = detail::formatAddress(key, addressText);
  for (const auto& c : candidates) {
    bump(counters.sightings);
    if (onSighting) {
      onSighting(Sighting{c.bleUuid, c.format, dev.rssi, wall, mono, address, adapter});
    }
  }
}

}  // namespace attendance::ble_scan
