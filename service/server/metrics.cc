#include "service/server/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/common/version.h"

namespace danegate::server {
namespace {

constexpr const char* kRpcNames[kRpcCount] = {"ResolvePolicy", "VerifyPeer"};
constexpr dns::RrType kTypes[kRrTypeCount] = {dns::RrType::kMx, dns::RrType::kA, dns::RrType::kAaaa,
                                              dns::RrType::kTlsa, dns::RrType::kCname};
constexpr const char* kGrpcCodes[kGrpcCodeCount] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

void Header(std::string& out, const char* name, const char* type, const char* help) {
  common::PrometheusHeader(out, name, type, help);
}

void Sample(std::string& out, const char* name, const char* type, const char* help,
            const absl::AlphaNum& value) {
  common::PrometheusSample(out, name, type, help, value);
}

uint64_t Load(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }

}  // namespace

int Metrics::TypeIndex(dns::RrType type) {
  for (int i = 0; i < kRrTypeCount; ++i) {
    if (kTypes[i] == type) return i;
  }
  return 0;
}

void Metrics::RecordDecision(Rpc rpc, policy::Action action, policy::Reason reason) {
  const int index =
      (static_cast<int>(rpc) * kActionCount + static_cast<int>(action)) * kReasonCount +
      static_cast<int>(reason);
  decisions_[index].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::RecordInvalidRequest(Rpc rpc) {
  invalid_requests_[static_cast<int>(rpc)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::RecordRpc(Rpc rpc, int grpc_code, absl::Duration latency) {
  if (grpc_code < 0 || grpc_code >= kGrpcCodeCount) grpc_code = 2;  // UNKNOWN
  rpcs_[static_cast<int>(rpc) * kGrpcCodeCount + grpc_code].fetch_add(1, std::memory_order_relaxed);
  rpc_latency_[static_cast<int>(rpc)].Observe(latency);
}

void Metrics::RecordDnsQuery(dns::RrType type, const dns::DnsAnswer& answer,
                             absl::Duration latency) {
  const int t = TypeIndex(type);
  dns_latency_[t * kLookupStatusCount + static_cast<int>(answer.status)].Observe(latency);
  dnssec_[static_cast<int>(answer.dnssec)].fetch_add(1, std::memory_order_relaxed);
  if (answer.status == dns::LookupStatus::kFailure) {
    upstream_errors_[t].fetch_add(1, std::memory_order_relaxed);
  }
}

std::string Metrics::Render(const dns::CacheStats& cache,
                            const tlsa::ParsedCertificateCacheStats& certificates,
                            const GrpcListener::Stats& connections,
                            uint64_t audit_lines_dropped) const {
  std::string out;
  Header(out, "danegate_build_info", "gauge", "1, labelled with danegated's release.");
  absl::StrAppend(&out, "danegate_build_info{version=\"", common::kVersion, "\"} 1\n");
  Header(out, "danegate_decisions_total", "counter", "Decisions by RPC, action and reason.");
  for (int r = 0; r < kRpcCount; ++r) {
    for (int a = 0; a < kActionCount; ++a) {
      for (int c = 0; c < kReasonCount; ++c) {
        const uint64_t v = Load(decisions_[(r * kActionCount + a) * kReasonCount + c]);
        if (v == 0) continue;
        absl::StrAppend(&out, "danegate_decisions_total{rpc=\"", kRpcNames[r], "\",action=\"",
                        policy::ActionName(static_cast<policy::Action>(a)), "\",reason=\"",
                        policy::ReasonName(static_cast<policy::Reason>(c)), "\"} ", v, "\n");
      }
    }
  }
  Header(out, "danegate_invalid_requests_total", "counter",
         "Requests refused with INVALID_ARGUMENT.");
  for (int r = 0; r < kRpcCount; ++r) {
    absl::StrAppend(&out, "danegate_invalid_requests_total{rpc=\"", kRpcNames[r], "\"} ",
                    Load(invalid_requests_[r]), "\n");
  }
  Header(out, "danegate_requests_cancelled_total", "counter",
         "Calls whose client gave up (deadline passed, cancelled) before the answer; their "
         "lookups stop.");
  for (int r = 0; r < kRpcCount; ++r) {
    absl::StrAppend(&out, "danegate_requests_cancelled_total{rpc=\"", kRpcNames[r], "\"} ",
                    Load(cancelled_[r]), "\n");
  }
  Sample(out, "danegate_audit_lines_dropped_total", "counter",
         "Audit log lines dropped because the disk did not keep up.", audit_lines_dropped);
  Header(out, "danegate_rpcs_total", "counter", "Finished RPCs by method and gRPC status.");
  for (int r = 0; r < kRpcCount; ++r) {
    for (int c = 0; c < kGrpcCodeCount; ++c) {
      const uint64_t v = Load(rpcs_[r * kGrpcCodeCount + c]);
      if (v == 0 && c != 0) continue;
      absl::StrAppend(&out, "danegate_rpcs_total{rpc=\"", kRpcNames[r], "\",code=\"", kGrpcCodes[c],
                      "\"} ", v, "\n");
    }
  }
  Header(out, "danegate_rpc_duration_seconds", "histogram", "RPC latency by method.");
  for (int r = 0; r < kRpcCount; ++r) {
    rpc_latency_[r].Render("danegate_rpc_duration_seconds",
                           absl::StrCat("rpc=\"", kRpcNames[r], "\""), out);
  }
  Sample(out, "danegate_rpcs_in_flight", "gauge", "RPCs being answered now.",
         in_flight_.load(std::memory_order_relaxed));
  Header(out, "danegate_dns_query_duration_seconds", "histogram",
         "Upstream DNS lookups by type and outcome (cache misses only).");
  for (int t = 0; t < kRrTypeCount; ++t) {
    for (int s = 0; s < kLookupStatusCount; ++s) {
      dns_latency_[t * kLookupStatusCount + s].Render(
          "danegate_dns_query_duration_seconds",
          absl::StrCat("type=\"", dns::RrTypeName(kTypes[t]), "\",outcome=\"",
                       dns::LookupStatusName(static_cast<dns::LookupStatus>(s)), "\""),
          out);
    }
  }
  Header(out, "danegate_dnssec_answers_total", "counter", "Upstream answers by DNSSEC status.");
  for (int d = 0; d < kDnssecStateCount; ++d) {
    absl::StrAppend(&out, "danegate_dnssec_answers_total{status=\"",
                    dns::DnssecStateName(static_cast<dns::DnssecState>(d)), "\"} ",
                    Load(dnssec_[d]), "\n");
  }
  Header(out, "danegate_upstream_errors_total", "counter",
         "Upstream lookups that failed (SERVFAIL, timeout, unreachable), by type.");
  for (int t = 0; t < kRrTypeCount; ++t) {
    absl::StrAppend(&out, "danegate_upstream_errors_total{type=\"", dns::RrTypeName(kTypes[t]),
                    "\"} ", Load(upstream_errors_[t]), "\n");
  }
  Sample(out, "danegate_cache_hits_total", "counter", "DNS cache hits.", cache.hits);
  Sample(out, "danegate_cache_misses_total", "counter", "DNS cache misses (upstream lookups).",
         cache.misses);
  Sample(out, "danegate_cache_coalesced_total", "counter",
         "Lookups that joined an identical lookup already upstream.", cache.coalesced);
  Sample(out, "danegate_cache_evictions_total", "counter", "DNS cache LRU evictions.",
         cache.evictions);
  Sample(out, "danegate_cache_entries", "gauge", "Answers in the DNS cache.", cache.entries);
  Sample(out, "danegate_cert_cache_entries", "gauge", "Parsed peer certificates kept.",
         certificates.entries);
  Sample(out, "danegate_cert_cache_bytes", "gauge",
         "Estimated memory of the parsed peer certificates kept (bound: --cert-cache-bytes).",
         certificates.bytes);
  Sample(out, "danegate_tlsa_signatures_expiring_total", "counter",
         "Decisions resting on a TLSA RRset whose RRSIGs expire within a day.",
         tlsa_signatures_expiring_.load(std::memory_order_relaxed));
  Sample(out, "danegate_connections", "gauge",
         "Client connections open on --listen (bound: --max-connections).",
         connections.connections);
  Header(out, "danegate_connections_refused_total", "counter",
         "Client connections closed as they arrived, by why.");
  absl::StrAppend(&out, "danegate_connections_refused_total{why=\"max_connections\"} ",
                  connections.refused_at_cap, "\n");
  absl::StrAppend(&out, "danegate_connections_refused_total{why=\"no_descriptor\"} ",
                  connections.refused_no_descriptor, "\n");
  Sample(out, "danegate_serving", "gauge", "1 when the health status is SERVING.",
         serving_.load() ? 1 : 0);
  return out;
}

}  // namespace danegate::server
