#include "service/server/health_monitor.h"

#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "service/common/log.h"

namespace danegate::server {

HealthMonitor::HealthMonitor(dns::Resolver& resolver, std::string probe_name,
                             absl::Duration interval, absl::Duration timeout,
                             std::function<void(bool)> set_serving)
    : resolver_(resolver), probe_name_(std::move(probe_name)), interval_(interval),
      timeout_(timeout), set_serving_(std::move(set_serving)) {
  thread_ = std::thread([this] { Run(); });
}

HealthMonitor::~HealthMonitor() {
  stop_.Notify();
  thread_.join();
}

bool HealthMonitor::Check() {
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
  std::optional<bool> serving;
  do {
    const bool ok = Check();
    if (serving != ok) {
      serving = ok;
      set_serving_(ok);  // before the log line, which announces a state in effect
      common::Log(ok ? "info" : "warning", ok ? "serving" : "not serving",
                  {{"probe", probe_name_},
                   {"why", ok ? "resolver self-check passed" : "resolver self-check failed"}});
    }
  } while (!stop_.WaitForNotificationWithTimeout(interval_));
}

}  // namespace danegate::server
