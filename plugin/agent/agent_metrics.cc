#include "plugin/agent/agent_metrics.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "plugin/agent/exim_lookup.h"
#include "plugin/postfix/lookup.h"
#include "service/common/version.h"

namespace danegate::agent {
namespace {

constexpr absl::string_view kMapNames[] = {postfix::kTlsPolicyMap, postfix::kTransportMap,
                                           kEximPolicyMap, kEximVerifyMap, "invalid"};
constexpr const char* kStatusNames[] = {"ok", "notfound", "temp", "perm"};

int MapIndex(absl::string_view request) {
  const absl::string_view map = request.substr(0, request.find(' '));
  for (int i = 0; i + 1 < AgentMetrics::kMaps; ++i) {
    if (map == kMapNames[i]) return i;
  }
  return AgentMetrics::kMaps - 1;
}

}  // namespace

void AgentMetrics::Record(absl::string_view request, const MapReply& reply,
                          absl::Duration latency) {
  const int map = MapIndex(request);
  latency_[map].Observe(latency);
  absl::MutexLock lock(&mu_);
  ++lookups_[Key{map, static_cast<int>(reply.status), reply.reason}];
}

void AgentMetrics::RecordChainFetch(bool ok, absl::Duration latency) {
  ++chain_fetches_[ok ? 1 : 0];
  chain_fetch_latency_.Observe(latency);
}

std::string AgentMetrics::Render(size_t open_connections, bool validator_ready) const {
  std::string out;
  common::PrometheusHeader(out, "danegate_agent_build_info", "gauge",
                           "1, labelled with the agent's release.");
  absl::StrAppend(&out, "danegate_agent_build_info{version=\"", common::kVersion, "\"} 1\n");
  common::PrometheusHeader(out, "danegate_agent_lookups_total", "counter",
                           "Lookups answered, by table, reply status and reason code");
  std::vector<std::pair<Key, uint64_t>> rows;
  {
    absl::MutexLock lock(&mu_);
    rows.assign(lookups_.begin(), lookups_.end());
  }
  std::sort(rows.begin(), rows.end());
  for (const auto& [key, count] : rows) {
    const auto& [map, status, reason] = key;
    absl::StrAppend(&out, "danegate_agent_lookups_total{map=\"", kMapNames[map], "\",status=\"",
                    kStatusNames[status], "\",reason=\"", reason, "\"} ", count, "\n");
  }
  common::PrometheusHeader(out, "danegate_agent_lookup_duration_seconds", "histogram",
                           "Time to answer one lookup, the question to danegated included");
  for (int map = 0; map < kMaps; ++map) {
    latency_[map].Render("danegate_agent_lookup_duration_seconds",
                         absl::StrCat("map=\"", kMapNames[map], "\""), out);
  }
  common::PrometheusHeader(out, "danegate_agent_chain_fetches_total", "counter",
                           "STARTTLS connections to MX hosts with only digest DANE-TA records, "
                           "to find their trust anchors, by result");
  absl::StrAppend(
      &out, "danegate_agent_chain_fetches_total{result=\"ok\"} ", chain_fetches_[1].load(), "\n",
      "danegate_agent_chain_fetches_total{result=\"failed\"} ", chain_fetches_[0].load(), "\n");
  common::PrometheusHeader(out, "danegate_agent_chain_fetch_duration_seconds", "histogram",
                           "Time of one such connection");
  chain_fetch_latency_.Render("danegate_agent_chain_fetch_duration_seconds", "", out);
  common::PrometheusSample(out, "danegate_agent_connections", "gauge",
                           "Open connections from MTA processes (Postfix, Exim)", open_connections);
  common::PrometheusSample(out, "danegate_agent_validator_up", "gauge",
                           "1 while the gRPC channel to danegated is connected",
                           validator_ready ? 1 : 0);
  return out;
}

}  // namespace danegate::agent
