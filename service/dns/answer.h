// Values that describe one DNS answer as danegate's validator saw it. No
// getdns here: the policy module and unit-test fakes use these types alone.
#ifndef DANEGATE_SERVICE_DNS_ANSWER_H_
#define DANEGATE_SERVICE_DNS_ANSWER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "service/tlsa/record.h"

namespace danegate::dns {

// DNSSEC state of an answer, from danegate's own validation (never from an
// upstream's AD bit). A value that travels with the answer, not an error.
enum class DnssecState { kSecure, kInsecure, kBogus, kIndeterminate };

// What the lookup produced. A failure (SERVFAIL, timeout, no upstream) is
// distinct from a proof that no record exists (kNoData, kNxDomain).
enum class LookupStatus { kOk, kNoData, kNxDomain, kFailure };

enum class RrType : uint16_t { kA = 1, kCname = 5, kMx = 15, kAaaa = 28, kTlsa = 52 };

struct MxRecord {
  uint16_t preference = 0;
  std::string exchange;  // lower-case, no trailing dot; "" for the root (null MX)
};

// One answer to one (name, type) question, after CNAME expansion.
struct DnsAnswer {
  LookupStatus status = LookupStatus::kFailure;
  DnssecState dnssec = DnssecState::kIndeterminate;
  std::string qname;           // the name asked for
  std::string canonical_name;  // after following CNAMEs; == qname if none
  // How long the answer may be reused: the smallest TTL of the records, or
  // for a denial min(SOA TTL, SOA MINIMUM) (RFC 2308 §5); 0 when unknown.
  uint32_t ttl = 0;
  // Earliest RRSIG expiration among the signatures of the answer (never
  // cache past it); InfiniteFuture when unsigned.
  absl::Time valid_until = absl::InfiniteFuture();
  std::string error;  // why, when status is kFailure

  // Exactly one of these is filled, according to the question's type (a
  // CNAME question fills canonical_name with the alias's target).
  std::vector<MxRecord> mx;
  std::vector<std::string> addresses;  // presentation form
  std::vector<tlsa::TlsaRecord> tlsa;
  // TLSA records in the RRset whose data could not be read: unusable,
  // never absent (RFC 7671 §9).
  size_t undecodable_records = 0;
};

const char* DnssecStateName(DnssecState state);
const char* LookupStatusName(LookupStatus status);
const char* RrTypeName(RrType type);

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_ANSWER_H_
