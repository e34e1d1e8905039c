// Asking a danegated over gRPC: a channel built from TLS options, and the
// two questions with a deadline on every call. Shared by `danegate --server`
// and `danegate-agent`.
#ifndef DANEGATE_SERVICE_API_REMOTE_H_
#define DANEGATE_SERVICE_API_REMOTE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "danegate/v1/validator.pb.h"
#include "grpcpp/channel.h"

namespace danegate::api {

struct RemoteOptions {
  std::string server;     // HOST:PORT (or any gRPC target)
  std::string ca_file;    // verifies the server; non-empty enables TLS
  std::string cert_file;  // client certificate (mutual TLS)
  std::string key_file;
  std::string server_name;  // overrides the name checked in the server's certificate
  absl::Duration timeout = absl::Seconds(10);
  // How often the three files are read again: a renewed client
  // certificate or CA is used for new connections without a restart.
  absl::Duration tls_reload_interval = absl::Seconds(60);
};

// Builds a channel to options.server (plaintext without ca_file). Fails with
// InvalidArgument naming the flag when a file cannot be read or the TLS
// options do not go together. Connects lazily. The channel has its own
// subchannels, and while the validator is unreachable it retries connecting
// at least every kMaxReconnectBackoff, so a restarted danegated is used
// again within about that time (gRPC's default backoff grows to 2 minutes,
// and calls fail fast meanwhile).
inline constexpr absl::Duration kMaxReconnectBackoff = absl::Seconds(1);
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectValidator(const RemoteOptions& options);

// Each asks on `channel` with the deadline `timeout` and returns the
// response, or the call's status as an absl::Status with the same code
// (INVALID_ARGUMENT carries the service's message).
absl::StatusOr<v1::ResolvePolicyResponse> RemoteResolvePolicy(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout,
    const v1::ResolvePolicyRequest& request);
absl::StatusOr<v1::VerifyPeerResponse> RemoteVerifyPeer(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout,
    const v1::VerifyPeerRequest& request);

// Keeps a long-lived channel connecting, and reports its state. A process
// that only makes fail-fast calls leaves nobody waiting on the channel while
// the validator is down, so gRPC would notice that it is back only on its
// 5-second backup poll; the watcher asks an idle channel to connect and
// waits on every state change, so a restarted danegated is used again within
// kMaxReconnectBackoff. `on_change` runs on the watcher's thread with each
// new state (the first call reports the initial one). Stops when destroyed.
class ChannelWatcher {
 public:
  static std::unique_ptr<ChannelWatcher> Start(
      std::shared_ptr<grpc::Channel> channel,
      std::function<void(grpc_connectivity_state)> on_change);
  ~ChannelWatcher();
  ChannelWatcher(const ChannelWatcher&) = delete;
  ChannelWatcher& operator=(const ChannelWatcher&) = delete;

 private:
  ChannelWatcher(std::shared_ptr<grpc::Channel> channel,
                 std::function<void(grpc_connectivity_state)> on_change)
      : channel_(std::move(channel)), on_change_(std::move(on_change)) {}
  void Run();

  const std::shared_ptr<grpc::Channel> channel_;
  const std::function<void(grpc_connectivity_state)> on_change_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// "idle", "connecting", "ready", "transient_failure" or "shutdown".
const char* ConnectivityStateName(grpc_connectivity_state state);

}  // namespace danegate::api

#endif  // DANEGATE_SERVICE_API_REMOTE_H_
