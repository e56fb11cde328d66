// The OpenAPI documents of attendance-backend and attendance-admin serve
// (apps/<app>/openapi.json, docs/api.md) against the servers themselves:
// - each binary serves its file at GET /openapi.json, unauthenticated, as JSON;
// - the document is well-formed OpenAPI 3.0;
// - its operations are exactly the routes of the server's router (a route added
//   without documenting it fails here, and so does a documented route that is gone);
// - every operation called on the live server with its examples and credentials
//   answers a documented status with the documented content type and JSON shape,
//   and every secured operation refuses a caller without credentials as documented.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "admin/web_console_test_base.hpp"
#include "api/openapi_check.hpp"
#include "backend/backend_test_base.hpp"

namespace {

namespace json = boost::json;
namespace openapi = attendance::testing::openapi;
namespace http = boost::beast::http;
using attendance::admin_web::testing::Browser;

std::string sourceFile(const std::string& relative) {
  std::ifstream in(std::string{ATTENDANCE_SOURCE_DIR} + "/" + relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

// GET /openapi.json on a live server: 200, application/json, the file of the source tree, well-formed.
json::object fetchDocument(std::uint16_t port, const std::string& file) {
  Browser client{port};
  const auto res = client.get("/openapi.json");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res.body(), sourceFile(file)) << "the served document is not " << file;
  boost::system::error_code ec;
  auto doc = json::parse(res.body(), ec);
  EXPECT_FALSE(ec) << file << " is not JSON: " << ec.message();
  if (ec || !doc.is_object()) return {};
  const auto problems = openapi::structuralProblems(doc);
  EXPECT_TRUE(problems.empty()) << file << " is not a well-formed OpenAPI document:" << joined(problems);
  return doc.as_object();
}

// The document's operations are the router's routes, no more and no fewer.
void expectSameOperations(const json::object& doc, const attendance::http_server::Router& router) {
  auto documented = openapi::documentedOperations(doc);
  auto routes = openapi::routerOperations(router);
  std::sort(documented.begin(), documented.end());
  std::sort(routes.begin(), routes.end());
  std::vector<std::string> undocumented;
  std::vector<std::string> gone;
  std::set_difference(routes.begin(), routes.end(), documented.begin(), documented.end(),
                      std::back_inserter(undocumented));
  std::set_difference(documented.begin(), documented.end(), routes.begin(), routes.end(), std::back_inserter(gone));
  EXPECT_TRUE(undocumented.empty()) << "routes the OpenAPI document lacks:" << joined(undocumented);
  EXPECT_TRUE(gone.empty()) << "documented operations the server does not have:" << joined(gone);
  EXPECT_GT(routes.size(), 10U);
}

bool isFormPost(const json::object& op) {
  const auto* body = op.if_contains("requestBody");
  return body != nullptr && body->as_object().at("content").as_object().contains("application/x-www-form-urlencoded");
}

// Every operation, with credentials: a documented answer, and the one the test expects: the
// first response the document lists (the normal answer), or 403 for an HTML form, which
// the test posts without its CSRF token so that nothing changes. Without credentials, every
// secured operation: a documented refusal, never a 2xx.
void expectAnswersAsDocumented(const json::object& doc, const openapi::LiveServer& server) {
  const auto calls = openapi::callEveryOperation(doc, server, true);
  EXPECT_EQ(calls.size(), openapi::documentedOperations(doc).size());
  for (const auto& call : calls) {
    const auto problems = openapi::answerProblems(doc, call);
    EXPECT_TRUE(problems.empty()) << joined(problems);
    const auto& op = openapi::operation(doc, call.operation);
    const int expected = isFormPost(op) ? 403 : std::stoi(std::string(op.at("responses").as_object().begin()->key()));
    EXPECT_EQ(call.status, expected) << call.operation << " (" << call.target << "): " << call.body.substr(0, 300);
  }
  const auto strangers = openapi::callEveryOperation(doc, server, false);
  EXPECT_GT(strangers.size(), 5U);
  for (const auto& call : strangers) {
    const auto problems = openapi::answerProblems(doc, call);
    EXPECT_TRUE(problems.empty()) << joined(problems);
    EXPECT_TRUE(call.status == 401 || call.status == 303) << call.operation << " without credentials: " << call.status;
  }
}

// ---- attendance-backend --------------------------------------------------------------

class BackendOpenApi : public attendance::testing::backend_test::BackendTest {
protected:
  openapi::LiveServer live() {
    // A participant of the test's own (the document's examples sign up another one), with the examples'
    // password, so that an operation asking for it again gets the right one.
    Browser client{backend->port};
    const auto res =
        client.send(http::verb::post, "/api/participants",
                    R"({"email":"openapi@example.org","displayName":"Open API","password":"correct horse battery"})",
                    {{"Content-Type", "application/json"}});
    EXPECT_EQ(res.result(), http::status::created) << res.body();
    const std::string token(json::parse(res.body()).at("token").as_string());
    openapi::LiveServer s;
    s.port = backend->port;
    s.schemes["scannerKey"].headers["Authorization"] = "Bearer " + apiKey;
    s.schemes["participantToken"].headers["Authorization"] = "Bearer " + token;
    s.schemes["participantSession"].cookies["attendance_participant"] = token;
    return s;
  }
};

TEST_F(BackendOpenApi, ServesItsDocumentWithoutCredentials) {
  const auto doc = fetchDocument(backend->port, "apps/backend/openapi.json");
  ASSERT_FALSE(doc.empty());
  EXPECT_EQ(doc.at("info").at("title"), "attendance-backend");
}

TEST_F(BackendOpenApi, DocumentsExactlyTheRoutesOfItsRouter) {
  expectSameOperations(fetchDocument(backend->port, "apps/backend/openapi.json"), backend->router());
}

TEST_F(BackendOpenApi, EveryOperationAnswersAsDocumented) {
  const auto doc = fetchDocument(backend->port, "apps/backend/openapi.json");
  ASSERT_FALSE(doc.empty());
  expectAnswersAsDocumented(doc, live());
}

// ---- attendance-admin serve ------------------------------------------------------------

class AdminOpenApi : public attendance::admin_web::testing::AdminWebTest {
protected:
  openapi::LiveServer live() {
    // The document's examples name event ev-1.
    attendance::core::NewEvent ev;
    ev.id = "ev-1";
    ev.name = "Meetup";
    ev.venue = "Hall A";
    EXPECT_TRUE(attendance::core::createEvent(server.pool(), ev, server.clock.systemTime()));
    const Browser admin = signedIn();
    openapi::LiveServer s;
    s.port = server.port();
    s.schemes["adminSession"].cookies = admin.cookies;
    return s;
  }
};

TEST_F(AdminOpenApi, ServesItsDocumentWithoutCredentials) {
  const auto doc = fetchDocument(server.port(), "apps/admin/openapi.json");
  ASSERT_FALSE(doc.empty());
  EXPECT_EQ(doc.at("info").at("title"), "attendance-admin serve");
}

TEST_F(AdminOpenApi, DocumentsExactlyTheRoutesOfItsRouter) {
  expectSameOperations(fetchDocument(server.port(), "apps/admin/openapi.json"), server.router());
}

TEST_F(AdminOpenApi, EveryOperationAnswersAsDocumented) {
  const auto doc = fetchDocument(server.port(), "apps/admin/openapi.json");
  ASSERT_FALSE(doc.empty());
  expectAnswersAsDocumented(doc, live());
}

// ---- the real binaries ----------------------------------------------------------------

// `serve` of each binary, as an operator starts it, serves the same document.
TEST(OpenApiBinaries, BothServersServeTheirDocument) {
  attendance::core::testing::TestDatabase db;
  ASSERT_EQ(attendance::testing::runBackend({"migrate"}, db.conninfo()).code, 0);
  const std::vector<std::string> env{"DATABASE_URL=" + db.conninfo()};
  auto portOf = [](const std::string& line) {
    // {"listening":"127.0.0.1:PORT"} and "listening http://127.0.0.1:PORT/"
    return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  };
  attendance::testing::ChildProcess backend{
      {attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--no-access-log"}, env};
  const std::string backendLine = backend.readLine().value_or("");
  ASSERT_NE(backendLine.find("listening"), std::string::npos) << backendLine;
  fetchDocument(portOf(backendLine), "apps/backend/openapi.json");

  attendance::testing::ChildProcess admin{{ATTENDANCE_ADMIN_EXE, "serve", "--listen", "127.0.0.1:0"}, env};
  const std::string adminLine = admin.readLine().value_or("");
  ASSERT_EQ(adminLine.rfind("listening http://127.0.0.1:", 0), 0U) << adminLine;
  fetchDocument(portOf(adminLine), "apps/admin/openapi.json");

  backend.kill(SIGTERM);
  admin.kill(SIGTERM);
  EXPECT_EQ(backend.wait(std::chrono::seconds{30}), 0);
  EXPECT_EQ(admin.wait(std::chrono::seconds{30}), 0);
}

}  // namespace
