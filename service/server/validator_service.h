// danegate.v1.Validator on the gRPC callback API. Each RPC parses its request
// bytes itself (a malformed message is INVALID_ARGUMENT, counted and
// audited like any other bad request, not gRPC's bare UNIMPLEMENTED),
// validates it at the edge (api::ValidateRequest), starts the engine and returns;
// the reactor is finished from the engine's callback, so no thread waits on
// DNS. Every decision is counted in Metrics and written to the AuditLog.
#ifndef DANEGATE_SERVICE_SERVER_VALIDATOR_SERVICE_H_
#define DANEGATE_SERVICE_SERVER_VALIDATOR_SERVICE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "danegate/v1/validator.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "service/engine/dane_engine.h"
#include "service/server/audit_log.h"
#include "service/server/metrics.h"

namespace danegate::server {

// Converts an absl::Status into a grpc::Status (the one place this happens).
grpc::Status ToGrpcStatus(const absl::Status& status);

// The raw (bytes in, bytes out) form of both methods.
using RawValidatorService = v1::Validator::WithRawCallbackMethod_ResolvePolicy<
    v1::Validator::WithRawCallbackMethod_VerifyPeer<v1::Validator::CallbackService>>;

class ValidatorService final : public RawValidatorService {
 public:
  // All references must outlive the service.
  ValidatorService(engine::DaneEngine& engine, const tlsa::DaneMatcher& matcher, Metrics& metrics,
                   AuditLog& audit, size_t max_request_bytes)
      : engine_(engine),
        matcher_(matcher),
        metrics_(metrics),
        audit_(audit),
        max_request_bytes_(max_request_bytes) {}

  grpc::ServerUnaryReactor* ResolvePolicy(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* VerifyPeer(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

 private:
  engine::DaneEngine& engine_;
  const tlsa::DaneMatcher& matcher_;
  Metrics& metrics_;
  AuditLog& audit_;
  const size_t max_request_bytes_;
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_VALIDATOR_SERVICE_H_
