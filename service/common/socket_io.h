// Blocking-style I/O on non-blocking sockets with one deadline for a whole
// exchange: for the small clients that talk to servers they do not control
// (danegate-agent's STARTTLS probe).
#ifndef DANEGATE_SERVICE_COMMON_SOCKET_IO_H_
#define DANEGATE_SERVICE_COMMON_SOCKET_IO_H_

#include <sys/socket.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace danegate::common {

// Owns a file descriptor.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events` (poll(2) flags); DeadlineExceeded
// ("timed out") once the deadline passes.
absl::Status WaitReady(int fd, short events, absl::Time deadline);

// Connects a new non-blocking stream socket to `address`; Unavailable with
// strerror, or DeadlineExceeded.
absl::StatusOr<Socket> ConnectStream(const sockaddr* address, socklen_t size, absl::Time deadline);

// Sends all of `data` (no SIGPIPE).
absl::Status SendAll(int fd, absl::string_view data, absl::Time deadline);

// Waits for and reads what is there (at most `max` bytes) and appends it to
// `buffer`; Unavailable("connection closed") at the end of the stream.
absl::Status ReadSome(int fd, std::string& buffer, size_t max, absl::Time deadline);

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_SOCKET_IO_H_
