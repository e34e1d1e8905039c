// The listening socket of a gRPC server, owned here instead of by gRPC.
//
// gRPC 1.51 (Debian 12) gives up on a listener the first time accept4()
// fails with anything but EAGAIN: after a moment of descriptor exhaustion
// the server accepts nothing more, for good, while health keeps saying
// SERVING. It also sets SO_REUSEPORT, so a second server on the same port
// starts and takes half the connections. Here the socket is bound without
// SO_REUSEPORT (a taken port is an error at start), connections are counted
// and capped, a lack of descriptors sheds the waiting connection instead of
// stopping, and each accepted connection is handed to the server through
// its external connection acceptor, where TLS, the resource quota and the
// channel arguments apply as to any other.
#ifndef DANEGATE_SERVICE_SERVER_GRPC_LISTENER_H_
#define DANEGATE_SERVICE_SERVER_GRPC_LISTENER_H_

#include <sys/types.h>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server_builder.h"

namespace danegate::server {

class GrpcListener {
 public:
  struct Stats {
    size_t connections = 0;              // open now (handed to gRPC, not yet closed)
    uint64_t refused_at_cap = 0;         // closed at once: --max-connections reached
    uint64_t refused_no_descriptor = 0;  // closed at once: no descriptor left
    bool accepting = false;              // the accept thread runs
  };

  // Binds and listens on `listen` ("ADDR:PORT", "[V6]:PORT", "localhost:PORT";
  // port 0 picks one). `flag` names the address in errors.
  static absl::StatusOr<std::unique_ptr<GrpcListener>> Bind(const std::string& flag,
                                                            const std::string& listen,
                                                            size_t max_connections);
  ~GrpcListener();  // Stop()
  GrpcListener(const GrpcListener&) = delete;
  GrpcListener& operator=(const GrpcListener&) = delete;

  int port() const { return port_; }

  // Hands every accepted connection to `acceptor`, from a thread of its own,
  // until Stop(). The server `acceptor` belongs to must be started (gRPC
  // leaks a connection handed to it before). `on_failure` is called once,
  // from that thread, if accepting fails in a way that cannot be retried.
  void Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor,
             std::function<void(absl::Status)> on_failure);

  // Closes the listening socket (new connections are refused by the kernel)
  // and joins the thread. Connections already handed over stay the server's.
  void Stop();

  Stats GetStats();

 private:
  GrpcListener(int listen_fd, int wake_fd, int port, size_t max_connections);
  void Run();
  void AcceptReady();
  // Closes the next waiting connection, using the spare descriptor; false
  // when there was none to close.
  bool Shed();
  // Logs a refused connection, at most once per 10 s.
  void LogRefusal(absl::string_view why);
  // Drops connections gRPC has closed since they were handed over.
  void Reconcile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int listen_fd_;
  const int wake_fd_;  // eventfd: Stop() wakes the thread
  const int port_;
  const size_t max_connections_;
  // The accept thread's own (after Start).
  int spare_fd_;  // kept open to be closed when descriptors run out
  absl::Time last_refusal_log_ = absl::InfinitePast();
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::function<void(absl::Status)> on_failure_;
  std::thread thread_;

  absl::Mutex mu_;
  // Connections handed to gRPC: descriptor -> socket inode. gRPC closes them
  // without telling us; a descriptor that is closed or now names another
  // file is gone.
  std::map<int, ino_t> open_ ABSL_GUARDED_BY(mu_);
  uint64_t refused_at_cap_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refused_no_descriptor_ ABSL_GUARDED_BY(mu_) = 0;
  bool accepting_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_GRPC_LISTENER_H_
