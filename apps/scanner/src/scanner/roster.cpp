#include "scanner/roster.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
// Boost.JSON's implementation, compiled here once instead of loading libboost_json.so
// (apps/scanner/CMakeLists.txt: the scanner's resident memory).
#include <boost/json/src.hpp>

namespace attendance::scanner {
namespace {

bool lessBytes(const support::Uuid& a, const support::Uuid& b) noexcept { return a.bytes < b.bytes; }

Failure invalid(std::string message) {
  return Failure{boost::system::errc::make_error_code(boost::system::errc::invalid_argument), std::move(message)};
}

}  // namespace

Outcome<Roster> Roster::parse(std::string_view json) {
  if (json.size() > kMaxFileBytes) {
    return invalid("roster is larger than 32 MiB");
  }
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec) {
    return invalid("roster is not valid JSON: " + ec.message());
  }
  const auto* obj = doc.if_object();
  if (obj == nullptr) {
    return invalid("roster must be a JSON object {\"eventId\":...,\"bleUuids\":[...]}");
  }
  const auto* event = obj->if_contains("eventId");
  if (event == nullptr || !event->is_string() || event->as_string().empty()) {
    return invalid("roster has no eventId string");
  }
  const auto* list = obj->if_contains("bleUuids");
  if (list == nullptr || !list->is_array()) {
    return invalid("roster has no bleUuids array");
  }
  const auto& arr = list->as_array();
  if (arr.size() > kMaxIds) {
    return invalid("roster has more than 1000000 bleUuids");
  }
  Roster r;
  r.eventId_ = std::string(event->as_string());
  if (const auto* ns = obj->if_contains("namespace")) {
    const auto* text = ns->if_string();
    r.namespace_ = text != nullptr ? support::BleNamespace::parseHex(*text) : std::nullopt;
    if (!r.namespace_) return invalid("roster namespace is not 20 hex digits");
  }
  if (const auto* priv = obj->if_contains("privateIds")) {
    if (!priv->is_bool()) return invalid("roster privateIds is not true or false");
    r.privateIds_ = priv->as_bool();
  }
  if (r.privateIds_ && !r.namespace_) return invalid("a private-ids roster must carry the namespace");
  if (r.privateIds_ && !arr.empty()) {
    return invalid("a private-ids roster carries no bleUuids (its participants broadcast rotating ids)");
  }
  r.ids_.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const auto* s = arr[i].if_string();
    const auto id = s != nullptr ? support::Uuid::parse(*s) : std::nullopt;
    if (!id) {
      return invalid("roster bleUuids[" + std::to_string(i) + "] is not an 8-4-4-4-12 UUID string");
    }
    r.ids_.push_back(*id);
  }
  std::sort(r.ids_.begin(), r.ids_.end(), lessBytes);
  r.ids_.erase(std::unique(r.ids_.begin(), r.ids_.end()), r.ids_.end());
  return r;
}

Outcome<Roster> Roster::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int err = errno;  // set by the failed open(); io_error if the library left none
    const error_code ec = err != 0 ? error_code{err, boost::system::generic_category()}
                                   : boost::system::errc::make_error_code(boost::system::errc::io_error);
    return Failure{ec, "cannot read roster " + file.string() + ": " + ec.message()};
  }
  std::string text;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec && size > kMaxFileBytes) {
    return invalid("roster " + file.string() + " is larger than 32 MiB");
  }
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  auto r = parse(text);
  if (!r) return Failure{r.error().code, file.string() + ": " + r.error().message};
  return r;
}

std::optional<std::size_t> Roster::indexOf(const support::Uuid& id) const noexcept {
  const auto it = std::lower_bound(ids_.begin(), ids_.end(), id, lessBytes);
  if (it == ids_.end() || !(*it == id)) return std::nullopt;
  return static_cast<std::size_t>(it - ids_.begin());
}

}  // namespace attendance::scanner
