#pragma once
// Checks an OpenAPI 3.0 document (docs/api.md) against itself, against a server's
// route table and against what the live server answers. Debian 12 packages no
// OpenAPI validator, so the structural rules are written out here, each one a
// rule of the OpenAPI 3.0.3 specification that a mistake in our documents could break.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include <attendance/http_server/router.hpp>

namespace attendance::testing::openapi {

namespace json = boost::json;

// What is wrong with `doc` as an OpenAPI 3.0 document; empty when well-formed.
[[nodiscard]] std::vector<std::string> structuralProblems(const json::value& doc);

// "GET /api/events/{id}/roster" for every operation of the document, and for every route of a router.
[[nodiscard]] std::vector<std::string> documentedOperations(const json::object& doc);
[[nodiscard]] std::vector<std::string> routerOperations(const http_server::Router& router);

// `value` against the schema's type, nullable, enum, required, properties and items ($ref followed);
// `where` names the place in messages. Empty when it conforms.
[[nodiscard]] std::vector<std::string> schemaProblems(const json::object& doc, const json::value& schema,
                                                      const json::value& value, const std::string& where);

// How the test reaches the live server.
struct Credentials {
  std::map<std::string, std::string> headers;  // e.g. Authorization
  std::map<std::string, std::string> cookies;
};
struct LiveServer {
  std::uint16_t port = 0;
  // Per security scheme name: what to send when an operation requires it.
  std::map<std::string, Credentials> schemes;
};

// One call of an operation and what came back.
struct Call {
  std::string operation;  // "GET /path"
  std::string target;     // what was requested
  bool authenticated = false;
  int status = 0;
  std::string contentType;
  std::string body;
};

// Calls every operation of `doc` on the live server in document order: path
// parameters from their `example`, the request body from its media type's `example`,
// the credentials of the operation's first non-empty security requirement (with
// `authenticated`) or none. Returns what each answered.
[[nodiscard]] std::vector<Call> callEveryOperation(const json::object& doc, const LiveServer& server,
                                                   bool authenticated);

// What is wrong with one answer: a status the operation does not document, a
// content type it does not list for that status, a JSON body that does not
// match the documented schema.
[[nodiscard]] std::vector<std::string> answerProblems(const json::object& doc, const Call& call);

// The operation object for "GET /path".
[[nodiscard]] const json::object& operation(const json::object& doc, const std::string& key);

}  // namespace attendance::testing::openapi
