#include "service/server/credentials.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"

namespace danegate::server {

std::vector<std::string> ClientCertificateNames(const std::vector<std::string>& san_dns_names,
                                                bool has_subject_alt_name,
                                                const std::vector<std::string>& common_names) {
  std::vector<std::string> names;
  for (const std::string& name : has_subject_alt_name ? san_dns_names : common_names) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

grpc::Status ClientAllowList::Process(const InputMetadata&, grpc::AuthContext* context,
                                      OutputMetadata*, OutputMetadata*) {
  auto values = [context](const char* property) {
    std::vector<std::string> out;
    for (const grpc::string_ref& value : context->FindPropertyValues(property)) {
      out.emplace_back(value.data(), value.size());
    }
    return out;
  };
  const std::vector<std::string> presented =
      ClientCertificateNames(values(GRPC_PEER_DNS_PROPERTY_NAME),
                             !values(GRPC_X509_SAN_PROPERTY_NAME).empty(),
                             values(GRPC_X509_CN_PROPERTY_NAME));
  for (const std::string& name : presented) {
    if (std::find(names_.begin(), names_.end(), name) != names_.end()) return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat("client certificate names [", absl::StrJoin(presented, ", "),
                                   "] are not allowed to call this service"));
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const ServerConfig& config) {
  if (config.tls_cert_pem.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      config.client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                   : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = config.client_ca_pem;
  options.pem_key_cert_pairs.push_back({config.tls_key_pem, config.tls_cert_pem});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(options);
  if (!config.allow_clients.empty()) {
    credentials->SetAuthMetadataProcessor(
        std::make_shared<ClientAllowList>(config.allow_clients));
  }
  return credentials;
}

}  // namespace danegate::server
