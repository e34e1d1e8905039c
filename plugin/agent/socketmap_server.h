// The socketmap server: accepts Postfix's connections on a unix socket or a
// loopback TCP port, reads netstring requests and writes the handler's
// replies. One thread per connection (Postfix keeps one connection per smtp
// process), at most max_connections at once; a connection that sends a
// malformed or oversized netstring, or stalls, is closed. Every limit is
// enforced before bytes are buffered.
#ifndef DANEGATE_PLUGIN_AGENT_SOCKETMAP_SERVER_H_
#define DANEGATE_PLUGIN_AGENT_SOCKETMAP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace danegate::agent {

struct SocketmapOptions {
  size_t max_connections = 256;
  size_t max_request = 10000;                          // Postfix's socketmap query limit
  size_t max_reply = 100000;                           // Postfix's socketmap reply limit
  absl::Duration idle_timeout = absl::Minutes(5);      // between requests
  absl::Duration request_timeout = absl::Seconds(10);  // to finish a started request
  unsigned socket_mode = 0666;                         // unix socket permissions
};

class SocketmapServer {
 public:
  // Returns the reply payload for one request payload. Called concurrently.
  using Handler = std::function<std::string(absl::string_view request)>;

  // Listens on `address`: "unix:/path" (a stale socket there is replaced),
  // "127.0.0.1:PORT" or "[::1]:PORT" (loopback only: the protocol has no
  // authentication). Port 0 picks a free port (see address()).
  static absl::StatusOr<std::unique_ptr<SocketmapServer>> Listen(const std::string& address,
                                                                 const SocketmapOptions& options,
                                                                 Handler handler);
  ~SocketmapServer();

  // Returns where it listens, with the real port.
  const std::string& address() const { return address_; }
  // Returns the number of open connections.
  size_t open_connections() const;

  // Accepts and serves connections until Stop(); returns once every
  // connection is closed.
  void Serve();
  // Makes Serve() return: stops accepting and closes open connections after
  // their current request. Callable from any thread.
  void Stop();

 private:
  SocketmapServer(int listen_fd, std::string address, std::string unix_path,
                  const SocketmapOptions& options, Handler handler);
  void ServeConnection(int fd);

  const int listen_fd_;
  const std::string address_;
  const std::string unix_path_;  // unlinked at destruction
  const SocketmapOptions options_;
  const Handler handler_;
  int stop_pipe_[2] = {-1, -1};
  mutable absl::Mutex mu_;
  absl::flat_hash_set<int> connections_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace danegate::agent

#endif  // DANEGATE_PLUGIN_AGENT_SOCKETMAP_SERVER_H_
