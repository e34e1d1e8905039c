// Keeps the gRPC health status honest: NOT_SERVING until the resolver has
// answered a self-check with a DNSSEC-secure answer, and again whenever a
// periodic check fails (the upstream resolver is down, the trust anchor no
// longer validates).
#ifndef DANEGATE_SERVICE_SERVER_HEALTH_MONITOR_H_
#define DANEGATE_SERVICE_SERVER_HEALTH_MONITOR_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/dns/resolver.h"

namespace danegate::server {

class HealthMonitor {
 public:
  // Checks `probe_name` MX through `resolver` (uncached) every `interval`;
  // calls `set_serving` on every change. The resolver must outlive this.
  HealthMonitor(dns::Resolver& resolver, std::string probe_name, absl::Duration interval,
                absl::Duration timeout, std::function<void(bool)> set_serving);
  ~HealthMonitor();  // stops the thread

 private:
  bool Check();
  void Run();

  dns::Resolver& resolver_;
  const std::string probe_name_;
  const absl::Duration interval_;
  const absl::Duration timeout_;
  const std::function<void(bool)> set_serving_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_HEALTH_MONITOR_H_
