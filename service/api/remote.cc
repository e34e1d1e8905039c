#include "service/api/remote.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "danegate/v1/validator.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "service/common/file.h"

namespace danegate::api {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  absl::StatusOr<std::string> content = common::ReadFileBounded(path, 1 << 20);
  if (!content.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", content.status().message()));
  }
  return content;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectValidator(const RemoteOptions& o) {
  grpc::ChannelArguments args;
  // Nothing shared with other channels of the process.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(kMaxReconnectBackoff)));
  if (o.ca_file.empty()) {
    if (!o.cert_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-cert", " needs ", "--tls-ca", " (TLS to the server)"));
    }
    return grpc::CreateCustomChannel(o.server, grpc::InsecureChannelCredentials(), args);
  }
  if (o.cert_file.empty() != o.key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert", " and ", "--tls-key", " go together"));
  }
  // Read once here so that a bad path fails at start; gRPC reads them again
  // every interval and uses what it read for new connections.
  for (const auto& [flag, path] :
       {std::pair{"--tls-ca", &o.ca_file}, std::pair{"--tls-cert", &o.cert_file},
        std::pair{"--tls-key", &o.key_file}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> content = ReadFile(flag, *path);
    if (!content.ok()) return content.status();
  }
  const auto interval =
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(o.tls_reload_interval)));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      o.key_file, o.cert_file, o.ca_file, interval);
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(provider);
  tls.watch_root_certs();
  if (!o.cert_file.empty()) tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  // The server's certificate must name the target (or --tls-server-name).
  tls.set_certificate_verifier(std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  if (!o.server_name.empty()) args.SetSslTargetNameOverride(o.server_name);
  return grpc::CreateCustomChannel(o.server, grpc::experimental::TlsCredentials(tls), args);
}

namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

template <typename Response, typename Request, typename Method>
absl::StatusOr<Response> Call(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout,
                              const Request& request, Method method) {
  std::unique_ptr<v1::Validator::Stub> stub = v1::Validator::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  Response response;
  grpc::Status status = ((*stub).*method)(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

}  // namespace

absl::StatusOr<v1::ResolvePolicyResponse> RemoteResolvePolicy(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout,
    const v1::ResolvePolicyRequest& request) {
  return Call<v1::ResolvePolicyResponse>(channel, timeout, request,
                                         &v1::Validator::Stub::ResolvePolicy);
}

absl::StatusOr<v1::VerifyPeerResponse> RemoteVerifyPeer(
    const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout,
    const v1::VerifyPeerRequest& request) {
  return Call<v1::VerifyPeerResponse>(channel, timeout, request, &v1::Validator::Stub::VerifyPeer);
}

std::unique_ptr<ChannelWatcher> ChannelWatcher::Start(
    std::shared_ptr<grpc::Channel> channel,
    std::function<void(grpc_connectivity_state)> on_change) {
  std::unique_ptr<ChannelWatcher> watcher(
      new ChannelWatcher(std::move(channel), std::move(on_change)));
  watcher->thread_ = std::thread([w = watcher.get()] { w->Run(); });
  return watcher;
}

ChannelWatcher::~ChannelWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ChannelWatcher::Run() {
  bool first = true;
  grpc_connectivity_state reported = GRPC_CHANNEL_IDLE;
  while (!stop_) {
    const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
    if (first || state != reported) on_change_(state);
    first = false;
    reported = state;
    // Bounded waits, so that the destructor is answered within one.
    channel_->WaitForStateChange(state, absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
  }
}

const char* ConnectivityStateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE: return "idle";
    case GRPC_CHANNEL_CONNECTING: return "connecting";
    case GRPC_CHANNEL_READY: return "ready";
    case GRPC_CHANNEL_TRANSIENT_FAILURE: return "transient_failure";
    case GRPC_CHANNEL_SHUTDOWN: return "shutdown";
  }
  return "unknown";
}

}  // namespace danegate::api
