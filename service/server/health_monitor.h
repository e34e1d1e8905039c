// Keeps the gRPC health status honest. Liveness: the listener still takes
// connections. Readiness: that, and it is not refusing them (at
// --max-connections, out of descriptors), and the resolver has answered a
// self-check with a DNSSEC-secure answer; re-checked periodically, so an
// upstream resolver that is down or a trust anchor that no longer validates
// turns readiness off until it is back.
#ifndef DANEGATE_SERVICE_SERVER_HEALTH_MONITOR_H_
#define DANEGATE_SERVICE_SERVER_HEALTH_MONITOR_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/dns/resolver.h"

namespace danegate::server {

// The listener as seen at one check.
struct ListenerHealth {
  bool accepting = true;  // false: it stopped for good
  std::string refusing;   // non-empty: why it refused connections since the last check
};

struct Health {
  bool live = false;
  bool ready = false;
  std::string why;  // what the state is due to, for the log

  bool operator==(const Health& other) const { return live == other.live && ready == other.ready; }
};

class HealthMonitor {
 public:
  // Starts the monitor's thread: it checks `listener` and `probe_name` MX
  // through `resolver` (uncached) every `interval`, and calls `set_health`
  // with the first result and then on every change. The resolver must
  // outlive the monitor.
  static std::unique_ptr<HealthMonitor> Start(dns::Resolver& resolver, std::string probe_name,
                                              absl::Duration interval, absl::Duration timeout,
                                              std::function<ListenerHealth()> listener,
                                              std::function<void(const Health&)> set_health);
  ~HealthMonitor();  // stops the thread
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

 private:
  HealthMonitor(dns::Resolver& resolver, std::string probe_name, absl::Duration interval,
                absl::Duration timeout, std::function<ListenerHealth()> listener,
                std::function<void(const Health&)> set_health);
  bool ResolverAnswers();
  void Run();

  dns::Resolver& resolver_;
  const std::string probe_name_;
  const absl::Duration interval_;
  const absl::Duration timeout_;
  const std::function<ListenerHealth()> listener_;
  const std::function<void(const Health&)> set_health_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_HEALTH_MONITOR_H_
