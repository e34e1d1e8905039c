// Certificate chains as danegate receives them (DER, leaf first): the size
// limits applied to every chain, and reading a PEM file for the CLI.
#ifndef DANEGATE_SERVICE_TLSA_CHAIN_H_
#define DANEGATE_SERVICE_TLSA_CHAIN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace danegate::tlsa {

inline constexpr size_t kMaxChainCertificates = 16;
inline constexpr size_t kMaxCertificateSize = 64 * 1024;

// A chain of DER certificates, leaf first.
using DerChain = std::vector<std::string>;

// Returns OK if `chain` has 1..16 certificates, each at most 64 KiB and each
// exactly one well-formed X.509 DER certificate; InvalidArgument naming the
// offending certificate otherwise. Every untrusted chain passes here first.
absl::Status CheckChain(const DerChain& chain);

// Reads PEM certificates from `path` (leaf first) and checks them with
// CheckChain. InvalidArgument for an unreadable, oversized or malformed file.
absl::StatusOr<DerChain> ReadPemChain(const std::string& path);

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_CHAIN_H_
