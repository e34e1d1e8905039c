#include "service/server/validator_service.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "service/api/convert.h"

namespace danegate::server {
namespace {

// Returns the caller's identity: its certificate name under mutual TLS,
// otherwise its address.
std::string ClientIdentity(const grpc::CallbackServerContext* context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    const std::vector<grpc::string_ref> identity = auth->GetPeerIdentity();
    if (!identity.empty()) return std::string(identity.front().data(), identity.front().size());
  }
  return context->peer();
}

const char* RpcName(Rpc rpc) { return rpc == Rpc::kResolvePolicy ? "ResolvePolicy" : "VerifyPeer"; }

// Tracks one RPC from start to finish: metrics, audit line, reactor.
// Decisions resting on TLSA signatures that expire sooner than this are
// counted (danegate_tlsa_signatures_expiring_total): a zone about to go
// bogus, seen before its mail is deferred.
constexpr absl::Duration kSignatureLookahead = absl::Hours(24);

class Call {
 public:
  Call(Rpc rpc, grpc::CallbackServerContext* context, Metrics& metrics, AuditLog& audit)
      : rpc_(rpc),
        context_(context),
        reactor_(context->DefaultReactor()),
        metrics_(metrics),
        audit_(audit),
        start_(absl::Now()) {
    metrics_.RpcStarted();
    record_.rpc = RpcName(rpc);
    record_.client = ClientIdentity(context);
  }

  AuditRecord& record() { return record_; }
  grpc::ServerUnaryReactor* reactor() { return reactor_; }

  // Whether the client has given up: its deadline has passed (the server
  // learns of it only when the client's cancellation arrives), or it
  // cancelled or went away (IsCancelled is valid at any time in the callback
  // API).
  bool GivenUp() const {
    return std::chrono::system_clock::now() >= context_->deadline() || context_->IsCancelled();
  }

  // Refuses a malformed request: INVALID_ARGUMENT with the field and why.
  grpc::ServerUnaryReactor* Refuse(const absl::Status& status) {
    metrics_.RecordInvalidRequest(rpc_);
    record_.action = "error";
    record_.reason = policy::ReasonName(policy::Reason::kInvalidArgument);
    record_.detail = std::string(status.message());
    return Finish(ToGrpcStatus(status));
  }

  // Records the decision and finishes the RPC with OK. `tlsa_expire` is
  // the earliest RRSIG expiration over the TLSA RRsets it rests on.
  grpc::ServerUnaryReactor* Decided(policy::Action action, policy::Reason reason,
                                    absl::Time tlsa_expire) {
    metrics_.RecordDecision(rpc_, action, reason);
    if (tlsa_expire - absl::Now() < kSignatureLookahead) metrics_.RecordTlsaSignaturesExpiring();
    record_.action = policy::ActionName(action);
    record_.reason = policy::ReasonName(reason);
    return Finish(grpc::Status::OK);
  }

 private:
  grpc::ServerUnaryReactor* Finish(const grpc::Status& status) {
    const absl::Duration latency = absl::Now() - start_;
    record_.latency = latency;
    if (GivenUp()) metrics_.RecordCancelled(rpc_);
    audit_.Write(record_);
    metrics_.RecordRpc(rpc_, status.error_code(), latency);
    metrics_.RpcFinished();
    grpc::ServerUnaryReactor* reactor = reactor_;
    reactor->Finish(status);
    return reactor;
  }

  const Rpc rpc_;
  grpc::CallbackServerContext* const context_;
  grpc::ServerUnaryReactor* const reactor_;
  Metrics& metrics_;
  AuditLog& audit_;
  const absl::Time start_;
  AuditRecord record_;
};

// Parses `bytes` into `message`: InvalidArgument for more than `limit`
// bytes or bytes that are not one such message.
template <typename Message>
absl::Status ParseRequest(const grpc::ByteBuffer* bytes, size_t limit, Message& message) {
  if (bytes->Length() > limit) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: ", bytes->Length(), " bytes; the limit is ", limit));
  }
  grpc::ByteBuffer copy(*bytes);  // shares the slices; the reader needs a mutable one
  grpc::ProtoBufferReader reader(&copy);
  if (!message.ParseFromZeroCopyStream(&reader)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: not a valid ", message.GetDescriptor()->full_name(), " message"));
  }
  return absl::OkStatus();
}

template <typename Message>
void WriteResponse(const Message& message, grpc::ByteBuffer* out) {
  bool own_buffer = false;
  grpc::GenericSerialize<grpc::ProtoBufferWriter, Message>(message, out, &own_buffer);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::ServerUnaryReactor* ValidatorService::ResolvePolicy(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* bytes,
                                                          grpc::ByteBuffer* response) {
  auto call = std::make_shared<Call>(Rpc::kResolvePolicy, context, metrics_, audit_);
  v1::ResolvePolicyRequest request;
  absl::Status parsed = ParseRequest(bytes, max_request_bytes_, request);
  if (!parsed.ok()) return call->Refuse(parsed);
  call->record().domain = request.domain().substr(0, 300);
  absl::StatusOr<api::PolicyQuery> query = api::ValidateRequest(request);
  if (!query.ok()) return call->Refuse(query.status());
  call->record().domain = query->domain;
  call->record().port = query->port;
  grpc::ServerUnaryReactor* reactor = call->reactor();
  engine_.ResolvePolicy(
      query->domain, query->port,
      [call, response](policy::DomainPolicy policy) {
        WriteResponse(api::ToProto(policy), response);
        call->record().detail = policy.detail;
        absl::Time expire = absl::InfiniteFuture();
        for (const policy::HostPolicy& host : policy.hosts) {
          expire = std::min(expire, host.tlsa_signatures_expire);
        }
        call->Decided(policy.action, policy.reason, expire);
      },
      [call] { return call->GivenUp(); });
  return reactor;
}

grpc::ServerUnaryReactor* ValidatorService::VerifyPeer(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* bytes,
                                                       grpc::ByteBuffer* response) {
  auto call = std::make_shared<Call>(Rpc::kVerifyPeer, context, metrics_, audit_);
  v1::VerifyPeerRequest request;
  absl::Status parsed = ParseRequest(bytes, max_request_bytes_, request);
  if (!parsed.ok()) return call->Refuse(parsed);
  call->record().domain = request.domain().substr(0, 300);
  call->record().mx_host = request.mx_host().substr(0, 300);
  absl::StatusOr<api::PeerQuery> query = api::ValidateRequest(
      request, [this](const tlsa::DerChain& chain) { return matcher_.CheckChain(chain); });
  if (!query.ok()) return call->Refuse(query.status());
  call->record().domain = query->domain;
  call->record().mx_host = query->mx_host;
  call->record().port = query->port;
  grpc::ServerUnaryReactor* reactor = call->reactor();
  engine_.VerifyPeer(
      query->domain, query->mx_host, query->port, std::move(query->chain),
      [call, response](policy::PeerVerdict verdict) {
        WriteResponse(api::ToProto(verdict), response);
        call->record().authenticated = verdict.authenticated;
        call->record().matched = verdict.matched;
        call->record().detail = verdict.detail;
        call->Decided(verdict.action, verdict.reason,
                      verdict.host ? verdict.host->tlsa_signatures_expire : absl::InfiniteFuture());
      },
      [call] { return call->GivenUp(); });
  return reactor;
}

}  // namespace danegate::server
