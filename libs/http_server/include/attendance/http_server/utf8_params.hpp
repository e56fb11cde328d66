#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <attendance/http_server/message.hpp>

// Text from the URL must be UTF-8 before any handler uses it: PostgreSQL refuses
// anything else with an error, which would surface as a 500. The Router runs both
// checks before every handler (docs/http-server.md, "Text from clients is UTF-8").
namespace attendance::http_server {

// The message for a 400 naming the first query parameter whose name or value
// (percent-decoded, '+' a space) is not valid UTF-8 ("parameter q is not valid
// UTF-8"), or nullopt. A malformed escape is left to whoever reads that parameter.
[[nodiscard]] std::optional<std::string> invalidUtf8InQuery(std::string_view query);

// The same for decoded path parameters: "path parameter id is not valid UTF-8".
[[nodiscard]] std::optional<std::string> invalidUtf8InPath(const PathParams& params);

// A name the client chose, fit for an error message: at most 64 bytes, cut at a
// character boundary ("..." marks the cut). The name must be valid UTF-8.
[[nodiscard]] std::string clientNameForMessage(std::string_view name);

}  // namespace attendance::http_server
