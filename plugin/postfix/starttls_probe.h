// Fetching the certificate chain an SMTP server presents after STARTTLS
// (RFC 3207), without verifying it: danegate-agent looks in it for the
// DANE-TA certificate that a digest TLSA record names (the DNSSEC-signed
// digest is the authority; a certificate that matches it is the one).
// Everything the server sends is bounded: reply lines, lines per reply, the
// whole exchange by one deadline.
#ifndef DANEGATE_PLUGIN_POSTFIX_STARTTLS_PROBE_H_
#define DANEGATE_PLUGIN_POSTFIX_STARTTLS_PROBE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/tlsa/chain.h"

namespace danegate::postfix {

struct ProbeOptions {
  uint16_t port = 25;
  absl::Duration timeout = absl::Seconds(10);  // for the whole exchange
  std::string helo_name = "localhost";
};

// Connects to `host` (each address in turn), says EHLO and STARTTLS, makes
// the TLS handshake with SNI `sni`, returns the chain (leaf first, checked by
// tlsa::CheckChain) and says QUIT. Unavailable for a connection, protocol or
// TLS failure (naming the step), DeadlineExceeded past the deadline.
absl::StatusOr<tlsa::DerChain> FetchStartTlsChain(const std::string& host, const std::string& sni,
                                                  const ProbeOptions& options);

}  // namespace danegate::postfix

#endif  // DANEGATE_PLUGIN_POSTFIX_STARTTLS_PROBE_H_
