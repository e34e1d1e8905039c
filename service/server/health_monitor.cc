#include "service/server/health_monitor.h"

#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "service/common/log.h"

namespace danegate::server {

HealthMonitor::HealthMonitor(dns::Resolver& resolver, std::string probe_name,
                             absl::Duration interval, absl::Duration timeout,
                             std::function<ListenerHealth()> listener,
                             std::function<void(const Health&)> set_health)
    : resolver_(resolver),
      probe_name_(std::move(probe_name)),
      interval_(interval),
      timeout_(timeout),
      listener_(std::move(listener)),
      set_health_(std::move(set_health)) {}

std::unique_ptr<HealthMonitor> HealthMonitor::Start(dns::Resolver& resolver, std::string probe_name,
                                                    absl::Duration interval, absl::Duration timeout,
                                                    std::function<ListenerHealth()> listener,
                                                    std::function<void(const Health&)> set_health) {
  std::unique_ptr<HealthMonitor> monitor(new HealthMonitor(resolver, std::move(probe_name),
                                                           interval, timeout, std::move(listener),
                                                           std::move(set_health)));
  monitor->thread_ = std::thread([m = monitor.get()] { m->Run(); });
  return monitor;
}

HealthMonitor::~HealthMonitor() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool HealthMonitor::ResolverAnswers() {
  // The callback may outlive this wait (a slow resolver): share the slot.
  struct Slot {
    absl::Notification done;
    dns::DnsAnswer answer;
  };
  auto slot = std::make_shared<Slot>();
  resolver_.Lookup(probe_name_, dns::RrType::kMx, [slot](dns::DnsAnswer answer) {
    slot->answer = std::move(answer);
    slot->done.Notify();
  });
  // Wait for the answer, but not past a stop: the monitor must not hold up a
  // shutdown for a probe to a silent upstream.
  const absl::Time deadline = absl::Now() + timeout_;
  while (!slot->done.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
    if (stop_.HasBeenNotified() || absl::Now() >= deadline) return false;
  }
  // A secure answer proves the upstream answers and our trust anchor
  // validates; anything else means decisions would all be defer.
  return slot->answer.status != dns::LookupStatus::kFailure &&
         slot->answer.dnssec == dns::DnssecState::kSecure;
}

void HealthMonitor::Run() {
  std::optional<Health> current;
  do {
    const ListenerHealth listener = listener_();
    Health health;
    health.live = listener.accepting;
    if (!listener.accepting) {
      health.why = "the gRPC listener stopped";
    } else if (!listener.refusing.empty()) {
      health.why = "connections refused: " + listener.refusing;
    } else if (!ResolverAnswers()) {
      health.why = "resolver self-check failed";
    } else {
      health.ready = true;
      health.why = "resolver self-check passed";
    }
    if (current != health) {
      current = health;
      set_health_(health);  // before the log line, which announces a state in effect
      common::Log(
          health.ready ? "info" : "warning", health.ready ? "serving" : "not serving",
          {{"probe", probe_name_}, {"live", health.live ? "true" : "false"}, {"why", health.why}});
    }
  } while (!stop_.WaitForNotificationWithTimeout(interval_));
}

}  // namespace danegate::server
