// The Prometheus scrape endpoint: GET /metrics over HTTP, served by
// libmicrohttpd on its own thread.
#ifndef DANEGATE_SERVICE_COMMON_METRICS_HTTP_H_
#define DANEGATE_SERVICE_COMMON_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct MHD_Daemon;

namespace danegate::common {

class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;

  // Listens on `listen` ("ADDR:PORT", "[V6]:PORT"; port 0 picks one) and
  // answers GET /metrics with `render()`. `render` must be thread-safe.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& listen,
                                                                  Render render);
  ~MetricsHttpServer();

  uint16_t port() const { return port_; }

 private:
  MetricsHttpServer(Render render) : render_(std::move(render)) {}
  const Render render_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_METRICS_HTTP_H_
