#pragma once
// A plain POSIX TCP client for attack tests: it can bind a chosen loopback source
// address (127.0.0.2 …, to play "another client"), send without reading, and ask
// whether the server has answered or closed yet. Every wait has a deadline.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace attendance::testing {

class RawSocket {
public:
  // Connects to 127.0.0.1:port, from `source` (a loopback address) when given.
  explicit RawSocket(std::uint16_t port, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    if (source != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        ::close(fd_);
        throw std::runtime_error("bind() to the source address failed");
      }
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect() failed");
    }
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  RawSocket(RawSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

  // Sends all of `bytes` unless the peer refuses them (reset, closed) or the
  // kernel's buffers stay full for `deadline`; returns whether all went out.
  bool send(std::string_view bytes, std::chrono::milliseconds deadline = std::chrono::seconds{2}) {
    while (!bytes.empty()) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(deadline.count())) <= 0 || (p.revents & (POLLERR | POLLHUP)) != 0)
        return false;
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // True when the server has sent something or closed within `wait`.
  [[nodiscard]] bool answered(std::chrono::milliseconds wait) const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
  }

  // Reads what the server sent until it closes or `deadline` passes.
  std::string readAll(std::chrono::milliseconds deadline = std::chrono::seconds{3}) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + deadline;
    char buf[16 * 1024];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  // True when the server closed the connection (EOF or reset) within `deadline`.
  bool closedByPeer(std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    char buf[16 * 1024];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
  }

  [[nodiscard]] int fd() const { return fd_; }

private:
  int fd_ = -1;
};

// Sends `header`, then `piece` again and again until the server answers (or
// closes), at most `cap` bytes. Returns how many bytes went out before that,
// or nullopt when the server was still reading at `cap`. The attack tests and
// bench/backend's latency-under-attack driver send their endless framing with it.
inline std::optional<std::size_t> bytesUntilRefused(RawSocket& s, std::string_view header, std::string_view piece,
                                                    std::size_t cap) {
  using namespace std::chrono_literals;
  if (!s.send(header)) return 0;
  std::size_t sent = header.size();
  while (sent < cap) {
    if (s.answered(0ms)) return sent;
    if (!s.send(piece, 500ms)) return sent;  // reset, or the server stopped reading
    sent += piece.size();
    if (s.answered(2ms)) return sent;
  }
  return std::nullopt;
}

// The status code of the first response in `raw` ("HTTP/1.1 413 ..." -> 413), or 0.
inline int statusOf(std::string_view raw) {
  if (raw.size() < 12 || !raw.starts_with("HTTP/1.")) return 0;
  return std::stoi(std::string{raw.substr(9, 3)});
}

}  // namespace attendance::testing
