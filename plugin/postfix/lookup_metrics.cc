#include "plugin/postfix/lookup_metrics.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "plugin/postfix/lookup.h"

namespace danegate::postfix {
namespace {

constexpr const char* kMapNames[] = {"tls_policy", "transport", "invalid"};
constexpr const char* kStatusNames[] = {"ok", "notfound", "temp", "perm"};

int MapIndex(absl::string_view request) {
  const absl::string_view map = request.substr(0, request.find(' '));
  if (map == kTlsPolicyMap) return 0;
  if (map == kTransportMap) return 1;
  return 2;
}

}  // namespace

void LookupMetrics::Record(absl::string_view request, const MapReply& reply,
                           absl::Duration latency) {
  const int map = MapIndex(request);
  latency_[map].Observe(latency);
  absl::MutexLock lock(&mu_);
  ++lookups_[Key{map, static_cast<int>(reply.status), reply.reason}];
}

void LookupMetrics::RecordChainFetch(bool ok, absl::Duration latency) {
  ++chain_fetches_[ok ? 1 : 0];
  chain_fetch_latency_.Observe(latency);
}

std::string LookupMetrics::Render(size_t open_connections, bool validator_ready) const {
  std::string out;
  common::PrometheusHeader(out, "danegate_postfix_lookups_total", "counter",
                           "Socketmap lookups answered, by table, reply status and reason code");
  std::vector<std::pair<Key, uint64_t>> rows;
  {
    absl::MutexLock lock(&mu_);
    rows.assign(lookups_.begin(), lookups_.end());
  }
  std::sort(rows.begin(), rows.end());
  for (const auto& [key, count] : rows) {
    const auto& [map, status, reason] = key;
    absl::StrAppend(&out, "danegate_postfix_lookups_total{map=\"", kMapNames[map],
                    "\",status=\"", kStatusNames[status], "\",reason=\"", reason, "\"} ", count,
                    "\n");
  }
  common::PrometheusHeader(out, "danegate_postfix_lookup_duration_seconds", "histogram",
                           "Time to answer one socketmap lookup, the question to danegated "
                           "included");
  for (int map = 0; map < kMaps; ++map) {
    latency_[map].Render("danegate_postfix_lookup_duration_seconds",
                         absl::StrCat("map=\"", kMapNames[map], "\""), out);
  }
  common::PrometheusHeader(out, "danegate_postfix_chain_fetches_total", "counter",
                           "STARTTLS connections to MX hosts with only digest DANE-TA records, "
                           "to find their trust anchors, by result");
  absl::StrAppend(&out, "danegate_postfix_chain_fetches_total{result=\"ok\"} ",
                  chain_fetches_[1].load(), "\n",
                  "danegate_postfix_chain_fetches_total{result=\"failed\"} ",
                  chain_fetches_[0].load(), "\n");
  common::PrometheusHeader(out, "danegate_postfix_chain_fetch_duration_seconds", "histogram",
                           "Time of one such connection");
  chain_fetch_latency_.Render("danegate_postfix_chain_fetch_duration_seconds", "", out);
  common::PrometheusHeader(out, "danegate_postfix_connections", "gauge",
                           "Open connections from Postfix processes");
  absl::StrAppend(&out, "danegate_postfix_connections ", open_connections, "\n");
  common::PrometheusHeader(out, "danegate_postfix_validator_up", "gauge",
                           "1 while the gRPC channel to danegated is connected");
  absl::StrAppend(&out, "danegate_postfix_validator_up ", validator_ready ? 1 : 0, "\n");
  return out;
}

}  // namespace danegate::postfix
