// danegated's Prometheus metrics: fixed families indexed by the engine's
// enums (no label strings on the hot path, no locks), rendered in the
// Prometheus text exposition format.
#ifndef DANEGATE_SERVICE_SERVER_METRICS_H_
#define DANEGATE_SERVICE_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "service/common/histogram.h"
#include "service/dns/answer.h"
#include "service/dns/caching_resolver.h"
#include "service/policy/decision.h"
#include "service/server/grpc_listener.h"
#include "service/tlsa/certificate_cache.h"

namespace danegate::server {

enum class Rpc { kResolvePolicy, kVerifyPeer };
inline constexpr int kRpcCount = 2;
inline constexpr int kActionCount = 3;
inline constexpr int kReasonCount = static_cast<int>(policy::Reason::kHostNotInPolicy) + 1;
inline constexpr int kRrTypeCount = 5;
inline constexpr int kLookupStatusCount = 4;
inline constexpr int kDnssecStateCount = 4;
inline constexpr int kGrpcCodeCount = 17;

using common::Histogram;

class Metrics {
 public:
  void RecordDecision(Rpc rpc, policy::Action action, policy::Reason reason);
  void RecordInvalidRequest(Rpc rpc);
  void RecordRpc(Rpc rpc, int grpc_code, absl::Duration latency);
  void RecordDnsQuery(dns::RrType type, const dns::DnsAnswer& answer, absl::Duration latency);
  void RecordCancelled(Rpc rpc) {
    cancelled_[static_cast<int>(rpc)].fetch_add(1, std::memory_order_relaxed);
  }
  void RecordTlsaSignaturesExpiring() {
    tlsa_signatures_expiring_.fetch_add(1, std::memory_order_relaxed);
  }
  void RpcStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void RpcFinished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void SetServing(bool serving) { serving_.store(serving, std::memory_order_relaxed); }

  // Returns every metric in the text exposition format (version 0.0.4).
  std::string Render(const dns::CacheStats& cache,
                     const tlsa::ParsedCertificateCacheStats& certificates,
                     const GrpcListener::Stats& connections, uint64_t audit_lines_dropped) const;

 private:
  static int TypeIndex(dns::RrType type);

  std::array<std::atomic<uint64_t>, kRpcCount * kActionCount * kReasonCount> decisions_{};
  std::array<std::atomic<uint64_t>, kRpcCount> invalid_requests_{};
  std::array<std::atomic<uint64_t>, kRpcCount> cancelled_{};
  std::array<std::atomic<uint64_t>, kRpcCount * kGrpcCodeCount> rpcs_{};
  std::array<Histogram, kRpcCount> rpc_latency_;
  std::array<Histogram, kRrTypeCount * kLookupStatusCount> dns_latency_;
  std::array<std::atomic<uint64_t>, kDnssecStateCount> dnssec_{};
  std::array<std::atomic<uint64_t>, kRrTypeCount> upstream_errors_{};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> tlsa_signatures_expiring_{0};
  std::atomic<bool> serving_{false};
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_METRICS_H_
