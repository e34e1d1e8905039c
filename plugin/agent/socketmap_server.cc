#include "plugin/agent/socketmap_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "plugin/agent/netstring.h"
#include "service/common/log.h"
#include "service/common/socket_address.h"

namespace danegate::agent {
namespace {

// The failed call's errno as its status code (EACCES PermissionDenied,
// ENOENT NotFound...), except an address another process holds: Unavailable,
// which the agent exits 69 for, as danegated does.
absl::Status Errno(absl::string_view what) {
  if (errno == EADDRINUSE) {
    return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
  }
  return absl::ErrnoToStatus(errno, what);
}

struct Bound {
  int fd = -1;
  std::string address;
  std::string unix_path;
};

absl::StatusOr<Bound> BindUnix(const std::string& path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sun.sun_path) {
    return absl::InvalidArgumentError("--listen: unix socket path empty or too long");
  }
  std::memcpy(sun.sun_path, path.data(), path.size());
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("--listen: ", path, " exists, not a socket"));
    }
    // A socket someone still accepts on belongs to a running process (a
    // second agent started by mistake): never take it over. One that
    // refuses connections was left by an earlier run.
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return Errno("socket");
    const bool live = connect(probe, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
    close(probe);
    if (live) {
      return absl::UnavailableError(
          absl::StrCat("--listen: ", path, ": another process accepts connections on it"));
    }
    unlink(path.c_str());
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    absl::Status s = Errno(absl::StrCat("--listen: cannot bind ", path));
    close(fd);
    return s;
  }
  return Bound{fd, absl::StrCat("unix:", path), path};
}

absl::StatusOr<Bound> BindLoopback(absl::string_view address) {
  absl::StatusOr<common::SocketAddress> parsed = common::ParseSocketAddress("--listen", address);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen: want unix:/PATH, 127.0.0.1:PORT or [::1]:PORT, got '", address, "'"));
  }
  if (!parsed->loopback()) {
    return absl::InvalidArgumentError(
        "--listen: only loopback addresses (the socketmap "
        "protocol has no authentication)");
  }
  common::SocketAddress bound = *parsed;
  const int fd = socket(bound.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&parsed->storage), parsed->size) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.size) != 0) {
    absl::Status s = Errno(absl::StrCat("--listen: cannot bind ", address));
    close(fd);
    return s;
  }
  return Bound{fd, absl::StrCat(address.substr(0, address.rfind(':')), ":", bound.port()), ""};
}

int Millis(absl::Duration d) {
  return static_cast<int>(absl::ToInt64Milliseconds(std::max(d, absl::ZeroDuration())));
}

bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SocketmapServer>> SocketmapServer::Listen(
    const std::string& address, const SocketmapOptions& options, Handler handler) {
  absl::StatusOr<Bound> bound =
      absl::StartsWith(address, "unix:") ? BindUnix(address.substr(5)) : BindLoopback(address);
  if (!bound.ok()) return bound.status();
  if (!bound->unix_path.empty() && chmod(bound->unix_path.c_str(), options.socket_mode) != 0) {
    absl::Status s = Errno("--listen: chmod");
    close(bound->fd);
    return s;
  }
  if (listen(bound->fd, 128) != 0) {
    absl::Status s = Errno("listen");
    close(bound->fd);
    return s;
  }
  auto server = std::unique_ptr<SocketmapServer>(new SocketmapServer(
      bound->fd, bound->address, bound->unix_path, options, std::move(handler)));
  if (pipe2(server->stop_pipe_, O_CLOEXEC) != 0) return Errno("pipe");
  return server;
}

SocketmapServer::SocketmapServer(int listen_fd, std::string address, std::string unix_path,
                                 const SocketmapOptions& options, Handler handler)
    : listen_fd_(listen_fd),
      address_(std::move(address)),
      unix_path_(std::move(unix_path)),
      options_(options),
      handler_(std::move(handler)) {}

SocketmapServer::~SocketmapServer() {
  close(listen_fd_);
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
  for (int fd : stop_pipe_) {
    if (fd >= 0) close(fd);
  }
}

size_t SocketmapServer::open_connections() const {
  absl::MutexLock lock(&mu_);
  return connections_.size();
}

void SocketmapServer::Stop() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  stopping_ = true;
  const char byte = 0;
  // The pipe is never drained: every poll that watches it wakes up.
  (void)!write(stop_pipe_[1], &byte, 1);
}

void SocketmapServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      common::Log("error", "socketmap: poll failed", {{"error", std::strerror(errno)}});
      break;
    }
    if (fds[1].revents != 0) break;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending connection stays in the
        // backlog, so back off instead of spinning on a readable listener.
        common::Log("warning", "socketmap: accept failed, backing off",
                    {{"error", std::strerror(errno)}});
        pollfd stop = {stop_pipe_[0], POLLIN, 0};
        poll(&stop, 1, 100);
      }
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      if (connections_.size() >= options_.max_connections) {
        common::Log("warning", "socketmap: connection refused, at --max-connections",
                    {{"max_connections", absl::StrCat(options_.max_connections)}});
        close(fd);
        continue;
      }
      connections_.insert(fd);
    }
    const timeval send_timeout{static_cast<time_t>(absl::ToInt64Seconds(options_.request_timeout)),
                               0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    try {
      std::thread([this, fd] { ServeConnection(fd); }).detach();
    } catch (const std::system_error& e) {  // no thread to be had: refuse this one
      common::Log("warning", "socketmap: cannot start a connection thread", {{"error", e.what()}});
      {
        absl::MutexLock lock(&mu_);
        connections_.erase(fd);
      }
      close(fd);
    }
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](absl::flat_hash_set<int>* c) { return c->empty(); }, &connections_));
}

void SocketmapServer::ServeConnection(int fd) {
  std::string buffer;
  // A request's netstring: its length digits, ':', the payload, ','.
  const size_t max_buffer = options_.max_request + 32;
  absl::Time request_deadline = absl::InfiniteFuture();
  char chunk[4096];
  for (;;) {
    const absl::Time now = absl::Now();
    const int wait =
        buffer.empty() ? Millis(options_.idle_timeout) : Millis(request_deadline - now);
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    const int ready = poll(fds, 2, wait);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || fds[1].revents != 0) break;  // timeout, error or stopping
    const size_t room = std::min(sizeof chunk, max_buffer - buffer.size());
    const ssize_t n = read(fd, chunk, room);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (buffer.empty()) request_deadline = now + options_.request_timeout;
    buffer.append(chunk, static_cast<size_t>(n));
    bool open = true;
    while (open && !buffer.empty()) {
      NetstringParse parsed = ParseNetstring(buffer, options_.max_request);
      if (parsed.state == NetstringParse::State::kNeedMore) break;
      if (parsed.state == NetstringParse::State::kMalformed) {
        common::Log("warning", "socketmap: closing a connection", {{"error", parsed.error}});
        open = false;
        break;
      }
      std::string reply = handler_(parsed.payload);
      if (reply.size() > options_.max_reply)
        reply = "TEMP reply_too_large: the answer is over the reply limit";
      open = WriteAll(fd, EncodeNetstring(reply));
      buffer.erase(0, parsed.consumed);
      request_deadline = absl::Now() + options_.request_timeout;
    }
    if (!open) break;
  }
  {
    absl::MutexLock lock(&mu_);
    connections_.erase(fd);
  }
  close(fd);  // after the erase: accept may hand out the same number again
}

}  // namespace danegate::agent
