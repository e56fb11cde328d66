#include <attendance/batch_client/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/throw_exception.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <exception>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

namespace attendance::batch_client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::string_view toString(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::network: return "network";
    case FailureKind::tls: return "tls";
    case FailureKind::auth: return "auth";
    case FailureKind::rejected: return "rejected";
    case FailureKind::server: return "server";
  }
  return "unknown";
}

void throw_exception_from_error(const Failure& failure, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(failure.message), loc);
}

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string seconds(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

bool isIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

struct Lookup {
  boost::system::error_code ec;
  tcp::resolver::results_type results;
};

// getaddrinfo cannot be interrupted, and asio's resolver waits for it however
// long a DNS server takes; so a name is looked up on a thread of its own that
// is abandoned (its answer dropped) at the connect deadline. IP literals need
// no lookup and no thread.
Lookup resolveWithin(const std::string& host, const std::string& port, std::chrono::steady_clock::time_point deadline) {
  const auto flags =
      tcp::resolver::numeric_service | (isIpLiteral(host) ? tcp::resolver::numeric_host : tcp::resolver::flags{});
  auto lookup = [host, port, flags] {
    asio::io_context context;
    tcp::resolver resolver{context};
    Lookup l;
    l.results = resolver.resolve(host, port, flags, l.ec);
    return l;
  };
  if (isIpLiteral(host)) return lookup();
  struct Shared {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Lookup> answer;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, lookup] {
    Lookup l = lookup();
    std::lock_guard lock{shared->mutex};
    shared->answer = std::move(l);
    shared->done.notify_one();
  }).detach();
  std::unique_lock lock{shared->mutex};
  if (!shared->done.wait_until(lock, deadline, [&shared] { return shared->answer.has_value(); })) {
    return {beast::error::timeout, {}};
  }
  return std::move(*shared->answer);
}

// What one attempt produced: either a transport error or a complete response.
struct Attempt {
  boost::system::error_code ec;
  std::string stage;  // "connect", "TLS handshake", "send", "receive"
  bool tlsVerification = false;
  bool plainHttpPeer = false;     // the TLS handshake met a server that answers in plain HTTP
  bool staleConnection = false;   // a reused keep-alive connection failed before any response byte
  bool closedUnanswered = false;  // plain HTTP, a fresh connection closed before any response byte
  std::optional<http::response<http::string_body>> response;
};

// A TLS client that reads "HTTP/1.1 400 ..." where a TLS record belongs: OpenSSL
// takes "TT" for the record's protocol version (wrong version number) or, for
// some first bytes, a record length far too large.
bool isPlainHttpAnswer(const boost::system::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG;
}

}  // namespace

struct BatchClient::Impl {
  Impl(ClientOptions o, const support::TimeSource& c, Hooks h)
      : options(std::move(o)), clock(c), hooks(std::move(h)), tlsContext(ssl::context::tls_client) {
    if (!hooks.unitRandom) {
      hooks.unitRandom = [rng = std::mt19937_64{std::random_device{}()}]() mutable {
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      };
    }
    if (options.endpoint.tls) configureTls();
  }

  void configureTls() {
    tlsContext.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (options.caFile.empty()) {
      tlsContext.set_default_verify_paths(ec);
    } else {
      tlsContext.load_verify_file(options.caFile, ec);
    }
    if (ec)
      caError = "cannot load CA " + (options.caFile.empty() ? std::string("store") : "file " + options.caFile) + ": " +
                ec.message();
    tlsContext.set_verify_mode(ssl::verify_peer);
  }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  bool isOpen() const { return (secure || plain) && connectedFlag; }

  void dropConnection() {
    if (secure) {
      beast::get_lowest_layer(*secure).socket().close();
    } else if (plain) {
      plain->socket().close();
    }
    secure.reset();
    plain.reset();
    buffer.clear();
    connectedFlag = false;
  }

  asio::awaitable<void> connect(Attempt& out, std::chrono::steady_clock::time_point deadline) {
    auto executor = co_await asio::this_coro::executor;
    const Endpoint& ep = options.endpoint;
    auto [rec, results] = resolveWithin(ep.host, std::to_string(ep.port), deadline);
    if (rec) {
      out.ec = rec;
      out.stage = "resolve " + ep.host;
      co_return;
    }
    beast::tcp_stream stream{executor};
    stream.expires_at(deadline);
    auto [cec, endpoint] = co_await stream.async_connect(results, kTuple);
    (void)endpoint;
    if (cec) {
      out.ec = cec;
      out.stage = "connect";
      co_return;
    }
    stream.socket().set_option(tcp::no_delay(true));
    ++opened;
    if (!ep.tls) {
      plain.emplace(std::move(stream));
      connectedFlag = true;
      co_return;
    }
    secure.emplace(std::move(stream), tlsContext);
    // SNI is only for names, never for IP literals (RFC 6066 §3).
    if (!isIpLiteral(ep.host) && SSL_set_tlsext_host_name(secure->native_handle(), ep.host.c_str()) != 1) {
      out.ec = boost::system::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
      out.stage = "TLS SNI";
      secure.reset();
      co_return;
    }
    // Chain AND name: a valid certificate for another host must be refused.
    secure->set_verify_callback(ssl::host_name_verification(ep.host));
    auto [hec] = co_await secure->async_handshake(ssl::stream_base::client, kTuple);
    if (hec) {
      out.ec = hec;
      out.stage = "TLS handshake";
      out.tlsVerification = hec.category() == asio::error::get_ssl_category();
      out.plainHttpPeer = isPlainHttpAnswer(hec);
      secure.reset();
      co_return;
    }
    connectedFlag = true;
  }

  template <class Stream>
  asio::awaitable<void> exchange(Stream& stream, const http::request<http::string_body>& req, Attempt& out,
                                 std::chrono::steady_clock::time_point deadline, bool reused) {
    lowest().expires_at(deadline);
    auto [wec, written] = co_await http::async_write(stream, req, kTuple);
    (void)written;
    if (wec) {
      out.ec = wec;
      out.stage = "send";
      out.staleConnection = reused && wec != beast::error::timeout;
      co_return;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.maxResponseBytes);
    auto [rec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
    (void)read;
    if (rec) {
      out.ec = rec;
      out.stage = "receive";
      out.staleConnection = reused && !parser.got_some() && rec != beast::error::timeout;
      // What a TLS port does with a plain-HTTP request (HAProxy, stunnel): close without a byte.
      out.closedUnanswered =
          !reused && !options.endpoint.tls && !parser.got_some() &&
          (rec == http::error::end_of_stream || rec == asio::error::eof || rec == asio::error::connection_reset);
      co_return;
    }
    out.response = parser.release();
  }

  asio::awaitable<void> close() {
    if (secure) {
      auto& layer = beast::get_lowest_layer(*secure);
      layer.expires_after(1s);
      // A server that closes without close_notify gives stream_truncated: benign here,
      // the response was already complete.
      auto [ec] = co_await secure->async_shutdown(kTuple);
      (void)ec;
    }
    dropConnection();
  }

  asio::awaitable<void> attempt(const http::request<http::string_body>& req, Attempt& out,
                                std::chrono::steady_clock::time_point connectDeadline,
                                std::chrono::steady_clock::time_point requestDeadline) {
    const bool reused = isOpen();
    if (!reused) {
      dropConnection();
      co_await connect(out, connectDeadline);
      if (out.ec) co_return;
    }
    if (secure) {
      co_await exchange(*secure, req, out, requestDeadline, reused);
    } else {
      co_await exchange(*plain, req, out, requestDeadline, reused);
    }
    if (out.ec) {
      dropConnection();
      co_return;
    }
    if (!out.response->keep_alive()) co_await close();
  }

  Attempt runAttempt(const http::request<http::string_body>& req, std::chrono::milliseconds budget) {
    Attempt out;
    const auto now = std::chrono::steady_clock::now();
    const auto requestDeadline = now + std::min(budget, options.timeouts.request);
    const auto connectDeadline = now + std::min(budget, options.timeouts.connect);
    std::exception_ptr failure;
    io.restart();
    asio::co_spawn(io, attempt(req, out, connectDeadline, requestDeadline),
                   [&failure](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) {
      dropConnection();
      std::rethrow_exception(failure);
    }
    return out;
  }

  http::request<http::string_body> buildRequest(const Request& r) const {
    const Endpoint& ep = options.endpoint;
    const http::verb verb = r.method == "GET" ? http::verb::get : http::verb::post;
    http::request<http::string_body> req{verb, ep.target(r.path), 11};
    std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
    if (ep.port != (ep.tls ? 443 : 80)) host += ":" + std::to_string(ep.port);
    req.set(http::field::host, host);
    req.set(http::field::user_agent, options.userAgent);
    req.set(http::field::accept, "application/json");
    if (!r.bearerToken.empty()) req.set(http::field::authorization, "Bearer " + r.bearerToken);
    for (const auto& [name, value] : r.headers) req.set(name, value);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, r.contentType);
      req.body() = r.body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  SendResult send(const Request& r) {
    const Endpoint& ep = options.endpoint;
    if (!caError.empty()) return Failure{FailureKind::tls, 0, caError, {}, 0, {}};
    const auto req = buildRequest(r);
    const auto operationDeadline = clock.monotonicTime() + options.timeouts.operation;
    const unsigned maxAttempts = std::max(1u, options.retry.maxAttempts);
    Failure last;
    std::vector<AttemptError> history;
    bool staleRetryUsed = false;
    for (unsigned attemptNo = 1;; ++attemptNo) {
      const auto remaining =
          std::chrono::duration_cast<std::chrono::milliseconds>(operationDeadline - clock.monotonicTime());
      if (remaining <= 0ms) {
        last.message += " (operation timeout of " + seconds(options.timeouts.operation) + " reached)";
        return last;
      }
      Attempt a = runAttempt(req, remaining);
      if (a.ec && a.staleConnection && !staleRetryUsed) {
        // The server closed an idle keep-alive connection: reconnect at once, this
        // is not a failure of the backend.
        staleRetryUsed = true;
        a = runAttempt(req, remaining);
      }
      std::optional<std::chrono::milliseconds> retryAfter;
      if (a.ec) {
        last = Failure{a.tlsVerification ? FailureKind::tls : FailureKind::network, 0, {}, {}, attemptNo, {}};
        std::string what = a.ec == beast::error::timeout ? std::string("timed out") : a.ec.message();
        history.push_back(AttemptError{a.stage, what, 0, {}});
        last.history = history;
        last.message = a.stage + " " + ep.origin() + " failed: " + what;
        if (a.closedUnanswered) {
          last.message += " (the server closed the connection without answering; if it expects TLS, use https://)";
        }
        if (a.plainHttpPeer) {
          last.message += " (the backend speaks plain HTTP; use http:// or put TLS in front)";
          return last;
        }
        if (a.tlsVerification) {
          last.message += " (the server certificate is not trusted for \"" + ep.host + "\"";
          last.message += options.caFile.empty() ? "; pass --ca-file if it is signed by a private CA)" : ")";
          return last;
        }
      } else {
        auto& res = *a.response;
        const unsigned status = res.result_int();
        if (status >= 200 && status < 300) return Response{status, std::move(res.body()), attemptNo};
        last = Failure{FailureKind::server, status, {}, res.body(), attemptNo, {}};
        history.push_back(AttemptError{"answer", {}, status, res.body().substr(0, 1024)});
        last.history = history;
        last.message = "HTTP " + std::to_string(status) + " from " + ep.origin() + ep.target(r.path);
        if (status == 401 || status == 403) {
          last.kind = FailureKind::auth;
          return last;
        }
        if (!isRetryableStatus(status)) {
          if (status >= 400 && status < 500) last.kind = FailureKind::rejected;
          return last;
        }
        if (auto it = res.find(http::field::retry_after); it != res.end()) {
          retryAfter = parseRetryAfter(it->value(), clock.systemTime());
        }
      }
      if (attemptNo >= maxAttempts) {
        last.message += " (gave up after " + std::to_string(attemptNo) + " attempts)";
        return last;
      }
      auto delay = backoffDelay(options.retry, attemptNo, hooks.unitRandom());
      if (retryAfter) {
        if (*retryAfter > options.retry.maxRetryAfter) {
          last.message += " (server asked to retry after " + seconds(*retryAfter) + ", more than the " +
                          seconds(options.retry.maxRetryAfter) + " this client waits)";
          return last;
        }
        delay = std::max(delay, *retryAfter);
      }
      if (clock.monotonicTime() + delay >= operationDeadline) {
        last.message += " (operation timeout of " + seconds(options.timeouts.operation) + " reached)";
        return last;
      }
      clock.sleepFor(delay);
    }
  }

  ClientOptions options;
  const support::TimeSource& clock;
  Hooks hooks;
  std::string caError;
  asio::io_context io{1};
  ssl::context tlsContext;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool connectedFlag = false;
  std::size_t opened = 0;
};

BatchClient::BatchClient(ClientOptions options, const support::TimeSource& clock, Hooks hooks)
    : impl_(std::make_unique<Impl>(std::move(options), clock, std::move(hooks))) {}

BatchClient::~BatchClient() = default;

SendResult BatchClient::send(const Request& request) { return impl_->send(request); }

std::size_t BatchClient::connectionsOpened() const noexcept { return impl_->opened; }

const ClientOptions& BatchClient::options() const noexcept { return impl_->options; }

}  // namespace attendance::batch_client
