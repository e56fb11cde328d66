#pragma once
// Pure rules about how a request is framed on the wire (RFC 9112 §6) and how
// many bytes it may use: no sockets, unit-tested in tests/http_server.

#include <cstddef>
#include <cstdint>
#include <optional>

#include <attendance/http_server/message.hpp>

namespace attendance::http_server::detail {

// A refusal decided from the header alone: the status and the message for {"error": …}.
struct Refusal {
  http::status status;
  std::string message;
};

// RFC 9112 §6.1/§6.3: a Transfer-Encoding is accepted only as exactly
// `chunked`. A final coding other than chunked leaves the body's length
// unknowable (400; reading on would let the body pose as the next request:
// smuggling behind a proxy); chunked after another coding is a coding we do
// not implement (501); Transfer-Encoding in an HTTP/1.0 request is faulty
// framing (400). Content-Length together with Transfer-Encoding is already
// refused by the parser.
[[nodiscard]] std::optional<Refusal> checkTransferEncoding(const Request& head);

// Bytes a request's body phase may use on the wire: the body limit plus an
// allowance for chunk-size lines, extensions and trailers (a quarter of the
// limit, at least 64 KiB). An honest client's framing is a few bytes per
// kilobyte; 1-byte chunks with long extensions exhaust it.
[[nodiscard]] std::uint64_t bodyWireBudget(std::size_t bodyLimit) noexcept;

// The read buffer's ceiling: a header block, or one chunk-size line (with
// extensions) or trailer section, must fit in it whole, so none grows without end.
[[nodiscard]] std::size_t readBufferLimit(std::size_t headerLimit, std::size_t framingLimit) noexcept;

}  // namespace attendance::http_server::detail
