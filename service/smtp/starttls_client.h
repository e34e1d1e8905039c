// An SMTP client that goes as far as the TLS handshake after STARTTLS
// (RFC 3207) and returns what the server presented, unverified: the caller
// judges it (danegate-agent looks in it for the DANE-TA certificate a digest
// TLSA record names; `danegate probe` and `danegate tlsa --host` ask the
// engine). Everything the server sends is hostile and bounded: reply lines,
// lines per reply, the certificates kept, the whole exchange by one deadline.
#ifndef DANEGATE_SERVICE_SMTP_STARTTLS_CLIENT_H_
#define DANEGATE_SERVICE_SMTP_STARTTLS_CLIENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/common/socket_address.h"
#include "service/tlsa/chain.h"

namespace danegate::smtp {

// Where a session with one address stopped. Stable names (FailureName) for
// reports and JSON.
enum class Failure {
  kNone,                // the handshake completed
  kConnect,             // no TCP connection
  kSmtp,                // greeting or EHLO refused, malformed or cut off
  kStartTlsNotOffered,  // EHLO did not offer STARTTLS
  kStartTlsRefused,     // STARTTLS answered with other than 220, or data after it
  kTls,                 // the handshake failed, or the chain is unusable
  kTimeout,             // the deadline passed
};
const char* FailureName(Failure failure);

// What one session gave.
struct Session {
  Failure failure = Failure::kNone;
  std::string error;     // when failed: the step and what went wrong
  tlsa::DerChain chain;  // when not failed: leaf first, checked by tlsa::CheckChain
  std::string protocol;  // when not failed: "TLSv1.3", ...
  std::string cipher;    // when not failed: the cipher suite's OpenSSL name
};

// Checks the name a client says in EHLO (`flag` names it in the error):
// 1..255 characters, none of them space or a line break, which would end
// or split the command.
absl::Status CheckHeloName(absl::string_view flag, absl::string_view name);

// Connects to `address`, reads the greeting, says EHLO `helo_name` and
// STARTTLS, makes the handshake with SNI `sni`, keeps the chain and says
// QUIT, all before `deadline`.
Session StartTls(const common::SocketAddress& address, const std::string& sni,
                 const std::string& helo_name, absl::Time deadline);

struct FetchOptions {
  uint16_t port = 25;
  absl::Duration timeout = absl::Seconds(10);  // for all addresses together
  std::string helo_name = "localhost";
};

// StartTls with each address of `host` (getaddrinfo) in turn, each given an
// equal share of the time left, until one gives a chain. Unavailable naming
// every address's failure; DeadlineExceeded when the last one timed out.
absl::StatusOr<tlsa::DerChain> FetchStartTlsChain(const std::string& host, const std::string& sni,
                                                  const FetchOptions& options);

}  // namespace danegate::smtp

#endif  // DANEGATE_SERVICE_SMTP_STARTTLS_CLIENT_H_
