#pragma once

// A small scripted HTTP(S) server for client tests: real sockets on 127.0.0.1,
// port chosen by the kernel, one thread per connection. Each request is answered
// by a test-provided function that can also misbehave (close, stall, cut the body).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attendance::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::string authorization;
  std::string contentType;
  std::string body;
  std::size_t connection = 0;                  // 1-based index of the connection it came on
  std::string serverName;                      // TLS SNI the client sent (empty: none, or plain TCP)
  std::map<std::string, std::string> headers;  // every header field, by its name as sent
};

struct Reply {
  enum class Action {
    respond,               // send the response below
    closeWithoutResponse,  // read the request, then close the connection
    stall,                 // read the request, then say nothing for `stallFor`
    truncateBody,          // send the header and half of the body, then close
  };
  Action action = Action::respond;
  unsigned status = 200;
  std::string body;
  std::string contentType = "application/json";
  std::map<std::string, std::string> headers;
  bool keepAlive = true;
  // Close the connection after the response although it announced keep-alive
  // (what an idle timeout on the server side looks like to the client).
  bool closeSilentlyAfter = false;
  std::chrono::milliseconds stallFor{0};
};

struct TlsFiles {
  std::filesystem::path certificateChain;
  std::filesystem::path privateKey;
};

class TestServer {
public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  explicit TestServer(Handler handler, std::optional<TlsFiles> tls = std::nullopt);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // "http://127.0.0.1:<port>" (or https://<host>:<port> with the given host name).
  [[nodiscard]] std::string url(const std::string& host = "127.0.0.1") const;

  [[nodiscard]] std::vector<ReceivedRequest> requests() const;
  [[nodiscard]] std::size_t connections() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A throwaway PKI made with the openssl command line: a CA, and a server
// certificate signed by it for the given subjectAltName list
// (e.g. "DNS:localhost,IP:127.0.0.1").
struct TestPki {
  std::filesystem::path caCertificate;
  TlsFiles server;
};
[[nodiscard]] TestPki makeTestPki(const std::filesystem::path& dir, const std::string& subjectAltNames);

}  // namespace attendance::testing
