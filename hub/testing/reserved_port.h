// ReservedPort: a loopback TCP port for a test's server whose endpoint must be known before the
// server binds it: a plugin host configured (and perhaps started) before its hubd, or a hubd
// restarted on the endpoint its clients keep reconnecting to.
//
// Why not ask the kernel for a free port (bind to port 0) and release it? That port comes from
// the ephemeral range, and until the server binds it, any other process's bind to port 0 or
// outgoing connection may be given it. So may a client of this very server reconnecting while
// it is down: the kernel can pick the destination port as the source port, and the socket then
// connects to itself. Either way the server's bind fails with "Address already in use" (a CI
// run lost a test to it).
//
// So the port is chosen outside the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range),
// where the kernel never hands a port out on its own; checked free by binding it the way libzmq
// binds (SO_REUSEADDR); and reserved against the other test processes that choose ports this
// way by an flock on <temp dir>/hub-test-ports/<port>.lock, held as long as the object lives.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

namespace hub::testing {

// 127.0.0.1:port, for bind() and connect().
inline sockaddr_in loopback_address(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

class ReservedPort {
 public:
  ReservedPort() {
    const auto [first, last] = candidate_range();
    const std::filesystem::path lock_dir = std::filesystem::temp_directory_path() / "hub-test-ports";
    std::error_code ec;
    std::filesystem::create_directories(lock_dir, ec);
    ::chmod(lock_dir.c_str(), 01777);  // shared by every user's tests, like /tmp itself
    const int span = last - first + 1;
    const int start = std::uniform_int_distribution<int>(0, span - 1)(random_engine());
    for (int i = 0; i < span; ++i) {
      const int port = first + (start + i) % span;
      const std::string lock_path = (lock_dir / (std::to_string(port) + ".lock")).string();
      const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd < 0) continue;
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && bindable(port)) {
        port_ = port;
        lock_fd_ = fd;
        return;
      }
      ::close(fd);  // closing releases the lock, if it was ours
    }
    throw std::runtime_error("no free loopback port in " + std::to_string(first) + ".." + std::to_string(last));
  }
  ~ReservedPort() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;

  int number() const { return port_; }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  // Ports below the ephemeral range (or above it, when it starts too low), never the
  // privileged ones.
  static std::pair<int, int> candidate_range() {
    int low = 32768, high = 60999;  // Linux's default, when the file cannot be read
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
    if (low > 10000 + 1000) return {10000, low - 1};
    if (high < 65535 - 1000) return {high + 1, 65535};
    throw std::runtime_error("the ephemeral port range " + std::to_string(low) + ".." + std::to_string(high) +
                             " leaves no room for fixed test ports");
  }

  static bool bindable(int port) {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    const int on = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    const sockaddr_in address = loopback_address(port);
    const bool ok = ::bind(s, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(s);
    return ok;
  }

  static std::mt19937& random_engine() {
    thread_local std::mt19937 engine(std::random_device{}());
    return engine;
  }

  int port_ = -1;
  int lock_fd_ = -1;
};

}  // namespace hub::testing
