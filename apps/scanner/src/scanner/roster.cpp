#include "scanner/roster.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace attendance::scanner {
namespace {

bool lessBytes(const support::Uuid& a, const support::Uuid& b) noexcept { return a.bytes < b.bytes; }

}  // namespace

std::optional<Roster> Roster::parse(std::string_view json, std::string& error) {
  if (json.size() > kMaxFileBytes) {
    error = "roster is larger than 32 MiB";
    return std::nullopt;
  }
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec) {
    error = "roster is not valid JSON: " + ec.message();
    return std::nullopt;
  }
  const auto* obj = doc.if_object();
  if (obj == nullptr) {
    error = "roster must be a JSON object {\"eventId\":...,\"bleUuids\":[...]}";
    return std::nullopt;
  }
  const auto* event = obj->if_contains("eventId");
  if (event == nullptr || !event->is_string() || event->as_string().empty()) {
    error = "roster has no eventId string";
    return std::nullopt;
  }
  const auto* list = obj->if_contains("bleUuids");
  if (list == nullptr || !list->is_array()) {
    error = "roster has no bleUuids array";
    return std::nullopt;
  }
  const auto& arr = list->as_array();
  if (arr.size() > kMaxIds) {
    error = "roster has more than 1000000 bleUuids";
    return std::nullopt;
  }
  Roster r;
  r.eventId_ = std::string(event->as_string());
  r.ids_.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const auto* s = arr[i].if_string();
    const auto id = s != nullptr ? support::Uuid::parse(*s) : std::nullopt;
    if (!id) {
      error = "roster bleUuids[" + std::to_string(i) + "] is not an 8-4-4-4-12 UUID string";
      return std::nullopt;
    }
    r.ids_.push_back(*id);
  }
  std::sort(r.ids_.begin(), r.ids_.end(), lessBytes);
  r.ids_.erase(std::unique(r.ids_.begin(), r.ids_.end()), r.ids_.end());
  return r;
}

std::optional<Roster> Roster::load(const std::filesystem::path& file, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot read roster " + file.string();
    return std::nullopt;
  }
  std::string text;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec && size > kMaxFileBytes) {
    error = "roster " + file.string() + " is larger than 32 MiB";
    return std::nullopt;
  }
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  auto r = parse(text, error);
  if (!r) error = file.string() + ": " + error;
  return r;
}

std::optional<std::size_t> Roster::indexOf(const support::Uuid& id) const noexcept {
  const auto it = std::lower_bound(ids_.begin(), ids_.end(), id, lessBytes);
  if (it == ids_.end() || !(*it == id)) return std::nullopt;
  return static_cast<std::size_t>(it - ids_.begin());
}

}  // namespace attendance::scanner
