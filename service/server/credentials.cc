#include "service/server/credentials.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

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
  const std::vector<std::string> presented = ClientCertificateNames(
      values(GRPC_PEER_DNS_PROPERTY_NAME), !values(GRPC_X509_SAN_PROPERTY_NAME).empty(),
      values(GRPC_X509_CN_PROPERTY_NAME));
  for (const std::string& name : presented) {
    if (std::find(names_.begin(), names_.end(), name) != names_.end()) return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat("client certificate names [", absl::StrJoin(presented, ", "),
                                   "] are not allowed to call this service"));
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const ServerConfig& config) {
  if (config.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  // gRPC re-reads the files every interval and uses what it read for new
  // handshakes (it reads key and certificate until both are from one
  // moment, so a Secret's symlink swap is never seen half-done).
  const auto interval = static_cast<unsigned int>(absl::ToInt64Seconds(config.tls_reload_interval));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      config.tls_key_file, config.tls_cert_file, config.client_ca_file, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!config.client_ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(options);
  if (!config.allow_clients.empty()) {
    credentials->SetAuthMetadataProcessor(std::make_shared<ClientAllowList>(config.allow_clients));
  }
  return credentials;
}

}  // namespace danegate::server
