#include "service/server/grpc_listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/log.h"
#include "service/common/socket_address.h"

namespace danegate::server {
namespace {

constexpr int kBacklog = 1024;
// Connections taken per wakeup before looking at the stop event again.
constexpr int kAcceptBatch = 64;
// A refusal is logged at most this often (a flood must not flood the log).
constexpr absl::Duration kRefusalLogInterval = absl::Seconds(10);

absl::Status ErrnoStatus(absl::string_view what) { return absl::ErrnoToStatus(errno, what); }

int OpenSpare() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcListener>> GrpcListener::Bind(const std::string& flag,
                                                                 const std::string& listen,
                                                                 size_t max_connections) {
  absl::StatusOr<common::SocketAddress> address = common::ParseListenAddress(flag, listen);
  if (!address.ok()) return address.status();
  const int fd = socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(absl::StrCat(flag, " ", listen, ": socket"));
  // SO_REUSEADDR only: a restart may bind over connections in TIME_WAIT, but
  // never beside another process listening on the port (no SO_REUSEPORT).
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->size) != 0) {
    const int bind_errno = errno;
    close(fd);
    return absl::ErrnoToStatus(
        bind_errno,
        absl::StrCat(flag, " ", listen, ": cannot listen",
                     bind_errno == EADDRINUSE ? " (another process has the port)" : ""));
  }
  common::SocketAddress bound;  // the port picked for port 0
  bound.size = sizeof bound.storage;
  if (::listen(fd, kBacklog) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.size) != 0) {
    absl::Status status = ErrnoStatus(absl::StrCat(flag, " ", listen, ": listen"));
    close(fd);
    return status;
  }
  const int port = bound.port();
  const int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    absl::Status status = ErrnoStatus("eventfd");
    close(fd);
    return status;
  }
  return std::unique_ptr<GrpcListener>(new GrpcListener(fd, wake, port, max_connections));
}

GrpcListener::GrpcListener(int listen_fd, int wake_fd, int port, size_t max_connections)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      max_connections_(max_connections),
      spare_fd_(OpenSpare()) {}

GrpcListener::~GrpcListener() {
  Stop();
  close(wake_fd_);
  if (spare_fd_ >= 0) close(spare_fd_);
}

void GrpcListener::Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor,
                         std::function<void(absl::Status)> on_failure) {
  acceptor_ = std::move(acceptor);
  on_failure_ = std::move(on_failure);
  {
    absl::MutexLock lock(&mu_);
    accepting_ = true;
  }
  thread_ = std::thread([this] { Run(); });
}

void GrpcListener::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
}

GrpcListener::Stats GrpcListener::GetStats() {
  absl::MutexLock lock(&mu_);
  Reconcile();
  return Stats{open_.size(), refused_at_cap_, refused_no_descriptor_, accepting_};
}

void GrpcListener::Reconcile() {
  for (auto it = open_.begin(); it != open_.end();) {
    struct stat st {};
    const bool same = fstat(it->first, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == it->second;
    it = same ? std::next(it) : open_.erase(it);
  }
}

void GrpcListener::Run() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  absl::Status failure;
  while (failure.ok()) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      failure = ErrnoStatus("poll on the gRPC listener");
      break;
    }
    if (fds[1].revents != 0) break;  // Stop()
    if (fds[0].revents & (POLLERR | POLLNVAL)) {
      failure = absl::InternalError("the gRPC listening socket failed");
      break;
    }
    AcceptReady();
  }
  {
    absl::MutexLock lock(&mu_);
    accepting_ = false;
  }
  if (!failure.ok()) {
    common::Log("error", "listener stopped",
                {{"port", std::to_string(port_)}, {"error", std::string(failure.message())}});
    on_failure_(failure);
  }
}

void GrpcListener::AcceptReady() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM) {
        // Nothing waiting (EAGAIN), or this one connection failed
        // (ECONNABORTED, EPROTO, ENETDOWN, ...): poll again.
        return;
      }
      // Out of descriptors or memory: close the waiting connection rather
      // than leave it queued (gRPC 1.51 stops listening here for good).
      const bool shed = Shed();
      LogRefusal("no descriptor left");
      if (!shed) {
        // Not even the spare descriptor: wait a little (or for Stop()) so
        // that a listener that stays readable does not spin.
        pollfd wake = {wake_fd_, POLLIN, 0};
        poll(&wake, 1, 50);
      }
      return;
    }
    struct stat st {};
    fstat(fd, &st);
    bool at_cap = false;
    {
      absl::MutexLock lock(&mu_);
      if (open_.size() >= max_connections_) Reconcile();
      at_cap = open_.size() >= max_connections_;
      if (at_cap) {
        ++refused_at_cap_;
      } else {
        open_[fd] = st.st_ino;
      }
    }
    if (at_cap) {
      close(fd);
      LogRefusal("--max-connections reached");
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters params;
    params.listener_fd = listen_fd_;
    params.fd = fd;
    acceptor_->HandleNewConnection(&params);
  }
}

bool GrpcListener::Shed() {
  if (spare_fd_ >= 0) {
    close(spare_fd_);
    spare_fd_ = -1;
  }
  const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) {
    {
      absl::MutexLock lock(&mu_);
      ++refused_no_descriptor_;  // counted before the peer can see the close
    }
    close(fd);
  }
  spare_fd_ = OpenSpare();
  return fd >= 0;
}

void GrpcListener::LogRefusal(absl::string_view why) {
  const absl::Time now = absl::Now();
  if (now - last_refusal_log_ < kRefusalLogInterval) return;
  last_refusal_log_ = now;
  common::Log("warning", "connections refused",
              {{"port", std::to_string(port_)}, {"why", std::string(why)}});
}

}  // namespace danegate::server
