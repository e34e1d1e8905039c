// Asking a danegated over gRPC: a channel built from TLS options, and the
// two questions with a deadline on every call. Shared by `danegate --server`
// and `danegate-postfix`.
#ifndef DANEGATE_SERVICE_API_REMOTE_H_
#define DANEGATE_SERVICE_API_REMOTE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "danegate/v1/validator.pb.h"
#include "grpcpp/channel.h"

namespace danegate::api {

struct RemoteOptions {
  std::string server;       // HOST:PORT (or any gRPC target)
  std::string ca_file;      // verifies the server; non-empty enables TLS
  std::string cert_file;    // client certificate (mutual TLS)
  std::string key_file;
  std::string server_name;  // overrides the name checked in the server's certificate
  absl::Duration timeout = absl::Seconds(10);
};

// Builds a channel to options.server (plaintext without ca_file). Fails with
// InvalidArgument naming the flag when a file cannot be read or the TLS
// options do not go together. Connects lazily.
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

}  // namespace danegate::api

#endif  // DANEGATE_SERVICE_API_REMOTE_H_
