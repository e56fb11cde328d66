#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <attendance/support/ble_namespace.hpp>
#include <attendance/support/result.hpp>
#include <attendance/support/uuid.hpp>

namespace attendance::scanner {

// The registered participants of one event, fetched before the event by
// `attendance-sync roster` (same shape as GET /api/events/{id}/roster):
//   {"eventId":"...","namespace":"<20 hex digits>","bleUuids":["a1b2c3d4-...", ...]}
// ("namespace" since issue 11; a roster from an older backend has none). A private-ids event's
// roster is {"eventId":..,"namespace":..,"privateIds":true,"bleUuids":[]}: its participants
// broadcast rotating ids no list can hold, so the scanner logs every id in the namespace and the
// roster names nobody (ADR 0078).
class Roster {
public:
  static constexpr std::size_t kMaxFileBytes = 32 * 1024 * 1024;
  static constexpr std::size_t kMaxIds = 1'000'000;

  // Parses the JSON text; a failure (errc::invalid_argument, or the file's I/O
  // error for load) carries a sentence naming what is wrong and where.
  [[nodiscard]] static Outcome<Roster> parse(std::string_view json);
  [[nodiscard]] static Outcome<Roster> load(const std::filesystem::path& file);

  [[nodiscard]] const std::string& eventId() const noexcept { return eventId_; }
  [[nodiscard]] const std::optional<support::BleNamespace>& bleNamespace() const noexcept { return namespace_; }
  // A private-ids event's roster: filter by the namespace, not by the (empty) list.
  [[nodiscard]] bool privateIds() const noexcept { return privateIds_; }
  [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }
  // Position of `id` in the roster (0..size-1), or nullopt. O(log n), no allocation.
  [[nodiscard]] std::optional<std::size_t> indexOf(const support::Uuid& id) const noexcept;

private:
  std::string eventId_;
  std::optional<support::BleNamespace> namespace_;
  bool privateIds_ = false;
  std::vector<support::Uuid> ids_;  // sorted, unique
};

}  // namespace attendance::scanner
