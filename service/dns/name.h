// Syntax checks for the domain and host names danegate accepts from users
// and the network, and the TLSA owner-name rule. Pure functions.
#ifndef DANEGATE_SERVICE_DNS_NAME_H_
#define DANEGATE_SERVICE_DNS_NAME_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace danegate::dns {

inline constexpr size_t kMaxNameLength = 253;  // presentation form, no final dot
inline constexpr size_t kMaxLabelLength = 63;

// Returns `name` in canonical form (ASCII lower-case, no trailing dot) if it
// is a syntactically valid mail domain or host name: labels of 1..63
// letters, digits, '-' or '_' (DNS allows '_'; so does Postfix for MX
// hosts), no leading or trailing hyphen, at most 253 octets, at least two
// labels, and a top-level label that is not all digits (so IP literals are
// refused). Otherwise InvalidArgument whose message starts with `field`.
absl::StatusOr<std::string> CanonicalMailName(absl::string_view name, absl::string_view field);

// Returns the TLSA owner name for `host` (canonical) and TCP `port`:
// "_PORT._tcp.HOST" (RFC 6698 §3).
std::string TlsaOwnerName(absl::string_view host, uint16_t port);

// Returns true if two canonical names are equal (names are compared
// case-insensitively; canonical names are already lower-case).
bool SameName(absl::string_view a, absl::string_view b);

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_NAME_H_
