#include "framing.hpp"

#include <algorithm>

#include <boost/beast/core/string.hpp>

namespace attendance::http_server::detail {

namespace {

std::string_view trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

std::optional<Refusal> checkTransferEncoding(const Request& head) {
  // Several Transfer-Encoding fields are one comma-separated list (RFC 9110 §5.3).
  std::string_view last;
  std::size_t codings = 0;
  bool any = false;
  for (auto it = head.find(http::field::transfer_encoding);
       it != head.end() && it->name() == http::field::transfer_encoding; ++it) {
    any = true;
    std::string_view list = it->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view coding = trimmed(list.substr(0, comma));
      if (!coding.empty()) {
        last = coding;
        ++codings;
      }
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
  }
  if (!any) return std::nullopt;
  if (head.version() < 11) {
    return Refusal{http::status::bad_request, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
  }
  if (!boost::beast::iequals(last, "chunked")) {
    return Refusal{http::status::bad_request,
                   "Transfer-Encoding must end in chunked: the body's length cannot be known otherwise"};
  }
  if (codings != 1) {
    return Refusal{http::status::not_implemented, "only Transfer-Encoding: chunked is supported"};
  }
  return std::nullopt;
}

std::uint64_t bodyWireBudget(std::size_t bodyLimit) noexcept {
  const std::uint64_t limit = bodyLimit;
  return limit + std::max<std::uint64_t>(64 * 1024, limit / 4);
}

std::size_t readBufferLimit(std::size_t headerLimit, std::size_t framingLimit) noexcept {
  return std::max(headerLimit, framingLimit) + 4096;
}

}  // namespace attendance::http_server::detail
