#include "batch_client/test_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace attendance::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct TestServer::Impl {
  Handler handler;
  asio::io_context io;
  std::optional<ssl::context> tlsContext;
  tcp::acceptor acceptor{io};
  std::thread acceptThread;
  mutable std::mutex mutex;
  std::condition_variable stopped;
  bool stopping = false;
  std::vector<ReceivedRequest> received;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::vector<std::thread> workers;
  std::size_t connectionCount = 0;

  void acceptLoop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io);
      boost::system::error_code ec;
      acceptor.accept(*socket, ec);
      std::lock_guard lock(mutex);
      if (ec || stopping) return;
      const std::size_t index = ++connectionCount;
      sockets.push_back(socket);
      workers.emplace_back([this, socket, index] { serve(socket, index); });
    }
  }

  bool waitUnlessStopping(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex);
    return !stopped.wait_for(lock, d, [this] { return stopping; });
  }

  template <class Stream>
  void exchange(Stream& stream, std::size_t index, const std::string& serverName = {}) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(256u * 1024u * 1024u);
      boost::system::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec) return;
      auto& req = parser.get();
      ReceivedRequest r{std::string(req.method_string()),
                        std::string(req.target()),
                        std::string(req[http::field::authorization]),
                        std::string(req[http::field::content_type]),
                        req.body(),
                        index,
                        serverName,
                        {}};
      for (const auto& field : req) r.headers[std::string(field.name_string())] = std::string(field.value());
      {
        std::lock_guard lock(mutex);
        received.push_back(r);
      }
      Reply reply = handler(r);
      switch (reply.action) {
        case Reply::Action::closeWithoutResponse: return;
        case Reply::Action::stall: waitUnlessStopping(reply.stallFor); return;
        case Reply::Action::respond:
        case Reply::Action::truncateBody: break;
      }
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, reply.contentType);
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = reply.body;
      res.keep_alive(reply.keepAlive && req.keep_alive());
      res.prepare_payload();
      if (reply.action == Reply::Action::truncateBody) {
        http::response_serializer<http::string_body> sr{res};
        http::write_header(stream, sr, ec);
        const std::string half = reply.body.substr(0, reply.body.size() / 2);
        asio::write(stream, asio::buffer(half), ec);
        return;
      }
      http::write(stream, res, ec);
      if (ec || !res.keep_alive() || reply.closeSilentlyAfter) return;
    }
  }

  void serve(const std::shared_ptr<tcp::socket>& socket, std::size_t index) {
    if (tlsContext) {
      ssl::stream<tcp::socket&> stream{*socket, *tlsContext};
      boost::system::error_code ec;
      stream.handshake(ssl::stream_base::server, ec);
      if (!ec) {
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        exchange(stream, index, sni != nullptr ? std::string(sni) : std::string());
        stream.shutdown(ec);
      }
    } else {
      exchange(*socket, index);
    }
    boost::system::error_code ignored;
    socket->shutdown(tcp::socket::shutdown_both, ignored);
  }
};

TestServer::TestServer(Handler handler, std::optional<TlsFiles> tls) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  if (tls) {
    impl_->tlsContext.emplace(ssl::context::tls_server);
    impl_->tlsContext->use_certificate_chain_file(tls->certificateChain.string());
    impl_->tlsContext->use_private_key_file(tls->privateKey.string(), ssl::context::pem);
  }
  tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->acceptThread = std::thread([this] { impl_->acceptLoop(); });
}

TestServer::~TestServer() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    for (auto& s : impl_->sockets) {
      boost::system::error_code ignored;
      s->shutdown(tcp::socket::shutdown_both, ignored);
    }
  }
  impl_->stopped.notify_all();
  boost::system::error_code ignored;
  // Wake the blocking accept() with a connection of our own, then close.
  {
    tcp::socket poke{impl_->io};
    poke.connect(impl_->acceptor.local_endpoint(), ignored);
  }
  impl_->acceptThread.join();
  impl_->acceptor.close(ignored);
  for (auto& w : impl_->workers) w.join();
}

std::uint16_t TestServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string TestServer::url(const std::string& host) const {
  return std::string(impl_->tlsContext ? "https://" : "http://") + host + ":" + std::to_string(port());
}

std::vector<ReceivedRequest> TestServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

std::size_t TestServer::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connectionCount;
}

namespace {
void run(const std::string& command) {
  const std::string full = command + " >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0) throw std::runtime_error("command failed: " + command);
}
}  // namespace

TestPki makeTestPki(const std::filesystem::path& dir, const std::string& subjectAltNames) {
  std::filesystem::create_directories(dir);
  const auto p = [&](const char* name) { return (dir / name).string(); };
  {
    std::ofstream ext(p("server.ext"));
    ext << "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        << "subjectAltName=" << subjectAltNames << "\n";
  }
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  run("openssl req -x509" + ec + "-keyout " + p("ca.key") + " -out " + p("ca.pem") +
      " -days 2 -subj '/CN=attendance test CA' -addext basicConstraints=critical,CA:TRUE"
      " -addext keyUsage=critical,keyCertSign,cRLSign");
  run("openssl req" + ec + "-keyout " + p("server.key") + " -out " + p("server.csr") + " -subj '/CN=test server'");
  run("openssl x509 -req -in " + p("server.csr") + " -CA " + p("ca.pem") + " -CAkey " + p("ca.key") +
      " -CAcreateserial -out " + p("server.pem") + " -days 2 -extfile " + p("server.ext"));
  return TestPki{dir / "ca.pem", TlsFiles{dir / "server.pem", dir / "server.key"}};
}

}  // namespace attendance::testing
