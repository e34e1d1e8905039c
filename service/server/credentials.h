// gRPC server credentials from the configuration: plaintext, TLS, or mutual
// TLS with an optional allow-list of client certificate names, enforced
// before any RPC handler runs.
#ifndef DANEGATE_SERVICE_SERVER_CREDENTIALS_H_
#define DANEGATE_SERVICE_SERVER_CREDENTIALS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/security/server_credentials.h"
#include "service/server/config.h"

namespace danegate::server {

// Returns the names a client certificate is identified by: its SAN DNS
// names, or its CN only when it has no subjectAltName at all (RFC 6125
// §6.4.4), each once.
std::vector<std::string> ClientCertificateNames(const std::vector<std::string>& san_dns_names,
                                                bool has_subject_alt_name,
                                                const std::vector<std::string>& common_names);

// Refuses calls whose client certificate names (ClientCertificateNames) are
// not in the list: PERMISSION_DENIED before the handler runs.
class ClientAllowList : public grpc::AuthMetadataProcessor {
 public:
  explicit ClientAllowList(std::vector<std::string> names) : names_(std::move(names)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const std::vector<std::string> names_;
};

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const ServerConfig& config);

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_CREDENTIALS_H_
