// Prometheus metrics of danegate-agent: lookups by table (Postfix's and the
// Exim plugin's), reply status and reason code, their latency, open MTA
// connections, the channel to danegated and the STARTTLS chain fetches.
// Thread-safe.
#ifndef DANEGATE_PLUGIN_AGENT_AGENT_METRICS_H_
#define DANEGATE_PLUGIN_AGENT_AGENT_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "plugin/agent/map_reply.h"
#include "service/common/histogram.h"

namespace danegate::agent {

class AgentMetrics {
 public:
  // Counts one answered request. `request` is the raw payload (its map name
  // is taken from it; unknown names count as "invalid"); the reason codes
  // come from danegate's own fixed set.
  void Record(absl::string_view request, const MapReply& reply, absl::Duration latency);

  // Counts one STARTTLS chain fetch for digest DANE-TA anchors.
  void RecordChainFetch(bool ok, absl::Duration latency);

  // Returns the text exposition, with `open_connections` and whether the
  // channel to danegated is connected (`validator_ready`) as gauges.
  std::string Render(size_t open_connections, bool validator_ready) const;

  // Tables counted apart: tls_policy, transport, exim_policy, exim_verify,
  // and "invalid" for any other name.
  static constexpr int kMaps = 5;

 private:
  using Key = std::tuple<int, int, std::string>;  // map, status, reason
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, uint64_t> lookups_ ABSL_GUARDED_BY(mu_);
  std::array<common::Histogram, kMaps> latency_;
  std::array<std::atomic<uint64_t>, 2> chain_fetches_{};  // failed, ok
  common::Histogram chain_fetch_latency_;
};

}  // namespace danegate::agent

#endif  // DANEGATE_PLUGIN_AGENT_AGENT_METRICS_H_
