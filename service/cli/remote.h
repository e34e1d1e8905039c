// `danegate --server`: the same questions asked of a danegated over gRPC,
// with a deadline on every call and TLS or mutual TLS when asked.
#ifndef DANEGATE_SERVICE_CLI_REMOTE_H_
#define DANEGATE_SERVICE_CLI_REMOTE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "danegate/v1/validator.pb.h"

namespace danegate::cli {

struct RemoteOptions {
  std::string server;       // HOST:PORT
  std::string ca_file;      // verifies the server; non-empty enables TLS
  std::string cert_file;    // client certificate (mutual TLS)
  std::string key_file;
  std::string server_name;  // overrides the name checked in the server's certificate
  absl::Duration timeout = absl::Seconds(10);
};

// Each returns the response, or the call's status as an absl::Status with
// the same code (INVALID_ARGUMENT carries the service's message).
absl::StatusOr<v1::ResolvePolicyResponse> RemoteResolvePolicy(
    const RemoteOptions& options, const v1::ResolvePolicyRequest& request);
absl::StatusOr<v1::VerifyPeerResponse> RemoteVerifyPeer(const RemoteOptions& options,
                                                        const v1::VerifyPeerRequest& request);

}  // namespace danegate::cli

#endif  // DANEGATE_SERVICE_CLI_REMOTE_H_
