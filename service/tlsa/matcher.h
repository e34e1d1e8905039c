// Matching a peer's certificate chain against TLSA records, offline, with
// OpenSSL's DANE implementation (RFC 6698, RFC 7671, RFC 7672 §3).
#ifndef DANEGATE_SERVICE_TLSA_MATCHER_H_
#define DANEGATE_SERVICE_TLSA_MATCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/tlsa/certificate_cache.h"
#include "service/tlsa/chain.h"
#include "service/tlsa/match_result.h"
#include "service/tlsa/record.h"

namespace danegate::tlsa {

struct MatcherOptions {
  // The bound of the matcher's cache of parsed peer certificates.
  size_t certificate_cache_bytes = kDefaultParsedCertificateCacheBytes;
};

// Thread-safe; one instance serves every request.
class DaneMatcher {
 public:
  // Creates a matcher; fails only if OpenSSL cannot set up DANE.
  static absl::StatusOr<std::unique_ptr<DaneMatcher>> Create(MatcherOptions options = {});
  ~DaneMatcher();
  DaneMatcher(const DaneMatcher&) = delete;
  DaneMatcher& operator=(const DaneMatcher&) = delete;

  // Checks `chain` (leaf first; CheckChain is applied) against the usable
  // `records`. `reference_names` are the names a DANE-TA(2) leaf may carry:
  // the TLSA base domain first (also the SNI name), then e.g. the MX host.
  // DANE-EE(3) matches the leaf with no name or expiry check; DANE-TA(2)
  // needs a chain from the leaf to the matched trust anchor and a name
  // match (SAN DNS names, leftmost-label wildcards; CN only without SAN).
  // Among records of one usage and selector only the strongest digest
  // counts (RFC 7671 §9). Errors only for a bad chain or bad arguments.
  absl::StatusOr<MatchResult> Match(const DerChain& chain, const std::vector<TlsaRecord>& records,
                                    const std::vector<std::string>& reference_names) const;

  // tlsa::CheckChain, parsing through the matcher's cache: the edge check
  // of a request costs what the match will cost again, once.
  absl::Status CheckChain(const DerChain& chain) const;

  // The figures of its cache of parsed certificates.
  ParsedCertificateCacheStats CertificateCacheStats() const;

 private:
  struct State;
  explicit DaneMatcher(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_MATCHER_H_
