// Certificate association data (RFC 6698 §2.1.2, §2.1.3) taken from
// certificates: what a TLSA record with a given selector and matching type
// carries for a certificate, and finding the certificate of a chain that a
// digest record names.
#ifndef DANEGATE_SERVICE_TLSA_ASSOCIATION_H_
#define DANEGATE_SERVICE_TLSA_ASSOCIATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/tlsa/chain.h"
#include "service/tlsa/record.h"

namespace danegate::tlsa {

// Returns `data` itself (matching type 0), its SHA-256 (1) or SHA-512 (2);
// InvalidArgument for another matching type.
absl::StatusOr<std::string> MatchingData(const std::string& data, uint8_t matching_type);

// Returns the certificate association data of the DER certificate `der` for
// `selector` (0: the certificate, 1: its SubjectPublicKeyInfo) and
// `matching_type` (0: the data itself, 1: SHA-256, 2: SHA-512).
// InvalidArgument for a certificate that does not parse or unknown values.
absl::StatusOr<std::string> AssociationData(const std::string& der, uint8_t selector,
                                            uint8_t matching_type);

// Returns when the DER certificate `der` expires (its notAfter).
absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& der);

// Returns the DER SubjectPublicKeyInfo of the key in `pem`: a PUBLIC KEY,
// or a private key (its public half). InvalidArgument otherwise.
absl::StatusOr<std::string> SpkiFromPemKey(const std::string& pem);

// For a digest record (matching type 1 or 2), returns the full data (what
// the record would carry with matching type 0) of the first certificate of
// `chain` that it matches; NotFound when none does. The record is the
// authority: a certificate whose digest equals it is the one it names.
absl::StatusOr<std::string> FullDataFromChain(const TlsaRecord& record, const DerChain& chain);

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_ASSOCIATION_H_
