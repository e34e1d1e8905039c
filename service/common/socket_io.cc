#include "service/common/socket_io.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace danegate::common {
namespace {

std::string Errno(int error) { return std::strerror(error); }

}  // namespace

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) close(fd_);
}

absl::Status WaitReady(int fd, short events, absl::Time deadline) {
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    pollfd p{fd, events, 0};
    const int ms =
        static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, INT_MAX));
    const int n = poll(&p, 1, ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("poll: ", Errno(errno)));
    if (n > 0) return absl::OkStatus();
  }
}

absl::StatusOr<Socket> ConnectStream(const sockaddr* address, socklen_t size, absl::Time deadline) {
  Socket s(socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) return absl::UnavailableError(absl::StrCat("socket: ", Errno(errno)));
  if (connect(s.fd(), address, size) == 0) return s;
  int error = errno;
  if (error == EINPROGRESS || error == EAGAIN) {
    absl::Status ready = WaitReady(s.fd(), POLLOUT, deadline);
    if (!ready.ok()) return absl::DeadlineExceededError("connect: timed out");
    socklen_t len = sizeof error;
    if (getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error == 0) return s;
  }
  return absl::UnavailableError(absl::StrCat("connect: ", Errno(error)));
}

absl::Status SendAll(int fd, absl::string_view data, absl::Time deadline) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      absl::Status ready = WaitReady(fd, POLLOUT, deadline);
      if (!ready.ok()) return ready;
    } else {
      return absl::UnavailableError(absl::StrCat("send: ", Errno(errno)));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadSome(int fd, std::string& buffer, size_t max, absl::Time deadline) {
  for (;;) {
    absl::Status ready = WaitReady(fd, POLLIN, deadline);
    if (!ready.ok()) return ready;
    char chunk[16384];
    const ssize_t n = recv(fd, chunk, std::min(sizeof chunk, max), 0);
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) return absl::UnavailableError("connection closed");
    if (errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("recv: ", Errno(errno)));
    }
  }
}

}  // namespace danegate::common
