// `danegate rollover`: is it safe to deploy the next certificate or key now?
// Pure decisions over a ResolvePolicy answer (the TLSA RRsets, their TTLs
// and signature expiry) and the server material, current and next.
#ifndef DANEGATE_SERVICE_CLI_ROLLOVER_H_
#define DANEGATE_SERVICE_CLI_ROLLOVER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "danegate/v1/validator.pb.h"
#include "service/tlsa/chain.h"
#include "service/tlsa/record.h"

namespace danegate::cli {

// What a server presents: a certificate chain (leaf first), or a key alone.
struct ServerMaterial {
  tlsa::DerChain chain;  // empty for a bare key
  std::string spki;      // the leaf's (or the key's) SubjectPublicKeyInfo, DER
  absl::Time not_after = absl::InfiniteFuture();  // the leaf's expiry
};

// Reads a PEM chain (leaf first) or a key (public or private).
absl::StatusOr<ServerMaterial> ReadServerMaterial(const std::string& flag, const std::string& path);

// Returns true if `record` names the material: DANE-EE(3) its leaf or key,
// DANE-TA(2) a certificate of its chain above the leaf.
bool Names(const tlsa::TlsaRecord& record, const ServerMaterial& material);

struct HostRollover {
  std::string host;
  std::optional<bool> next_published;     // with --next
  std::optional<bool> current_published;  // with --current
  uint32_t ttl = 0;
  std::optional<absl::Duration> signatures_left;  // until the earliest RRSIG expires
  std::vector<std::string> problems;              // reason codes, worst first
};

struct Rollover {
  bool safe = false;
  std::string reason;  // "safe", or the first problem's code
  std::string detail;
  std::vector<HostRollover> hosts;  // the domain's DANE hosts
};

// Decides for every DANE host of `policy`: a record names `next` (when
// given) and `current` (when given); the RRSIGs over the TLSA RRset and the
// certificates last longer than `warn`. Reason codes:
// policy_not_deliver, next_key_not_published, current_key_not_published,
// tlsa_rrsig_expiring, certificate_expiring.
Rollover CheckRollover(const v1::ResolvePolicyResponse& policy, const ServerMaterial* next,
                       const ServerMaterial* current, absl::Time now, absl::Duration warn);

}  // namespace danegate::cli

#endif  // DANEGATE_SERVICE_CLI_ROLLOVER_H_
