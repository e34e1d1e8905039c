#include "service/common/metrics_http.h"

#include <microhttpd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "service/common/socket_address.h"

namespace danegate::common {
namespace {

MHD_Result Reply(MHD_Connection* connection, unsigned int status, const std::string& body,
                 const char* content_type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  const MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char*, const char*, size_t* upload_size, void**) {
  const auto* render = static_cast<const MetricsHttpServer::Render*>(cls);
  if (*upload_size != 0) {
    *upload_size = 0;  // no request bodies here; discard
    return MHD_YES;
  }
  if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
    return Reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n", "text/plain");
  }
  if (std::strcmp(url, "/metrics") != 0) {
    return Reply(connection, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", "text/plain");
  }
  return Reply(connection, MHD_HTTP_OK, (*render)(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, Render render) {
  absl::StatusOr<SocketAddress> address = ParseListenAddress("--metrics-listen", listen);
  if (!address.ok()) return address.status();
  const uint16_t port = address->port();
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (address->family() == AF_INET6) flags |= MHD_USE_IPv6;
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(std::move(render)));
  server->daemon_ = MHD_start_daemon(flags, port, nullptr, nullptr, &Handle,
                                     const_cast<Render*>(&server->render_), MHD_OPTION_SOCK_ADDR,
                                     &address->storage, MHD_OPTION_CONNECTION_LIMIT, 64u,
                                     MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("--metrics-listen ", listen, ": cannot listen"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr ? info->port : port;
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace danegate::common
