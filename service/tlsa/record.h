// TLSA records (RFC 6698 §2.1): the value type, its text form, and the
// RFC 7672 §2.2 usability rules. Pure: no OpenSSL here.
#ifndef DANEGATE_SERVICE_TLSA_RECORD_H_
#define DANEGATE_SERVICE_TLSA_RECORD_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace danegate::tlsa {

enum Usage : uint8_t { kPkixTa = 0, kPkixEe = 1, kDaneTa = 2, kDaneEe = 3 };
enum Selector : uint8_t { kFullCert = 0, kSpki = 1 };
enum MatchingType : uint8_t { kExact = 0, kSha256 = 1, kSha512 = 2 };

// Largest certificate association data accepted (an RDATA is < 64 KiB).
inline constexpr size_t kMaxTlsaDataSize = 65535 - 3;

struct TlsaRecord {
  uint8_t usage = 0;
  uint8_t selector = 0;
  uint8_t matching_type = 0;
  std::string data;  // raw bytes

  friend bool operator==(const TlsaRecord&, const TlsaRecord&) = default;
};

// Whether a record may be used for SMTP, and if not, why.
struct Usability {
  bool usable = false;
  std::string why;  // empty when usable
};

// Classifies a record under RFC 7672 §2.2 / RFC 7671: usable are DANE-TA(2)
// and DANE-EE(3) with selector 0/1, matching type 0/1/2 and data of the
// right shape (32 or 64 octets for digests, one DER SEQUENCE spanning the
// data for exact matches). PKIX-TA(0)/PKIX-EE(1) and unknown values are not.
Usability Classify(const TlsaRecord& record);

// Parses "USAGE SELECTOR MTYPE HEX" (the zone-file form; the hex may be split
// by whitespace). Each number must be 0..255; InvalidArgument otherwise.
absl::StatusOr<TlsaRecord> ParseTlsaText(absl::string_view text);

// Returns the zone-file form "U S M hex".
std::string TlsaText(const TlsaRecord& record);

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_RECORD_H_
