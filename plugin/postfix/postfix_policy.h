// What danegate-agent answers Postfix: a ResolvePolicy answer translated
// into a TLS policy table entry (smtp_tls_policy_maps) or a transport table
// entry (transport_maps), and the socketmap replies that carry them.
// Pure: the trust-anchor file of a "secure" policy is written by the caller.
//
// Postfix applies one TLS policy per next-hop domain while danegate decides
// per MX host, so a policy is built to be safe for every host Postfix may try
// (it accepts only keys the domain published under DNSSEC) and to work for
// the most-preferred host it can express:
//   dane hosts, DANE-EE SHA-256 records -> "fingerprint match=D1|D2..." (all
//       such hosts' digests; SHA-256 records that a SHA-512 record of the same
//       usage and selector overrides (RFC 7671 §9) are left out);
//   dane hosts, full DANE-TA records (2 0 0, 2 1 0) -> "secure tafile=F
//       match=NAMES" (F holds the anchors; NAMES the hosts' names);
//   dane hosts with only digest DANE-TA records: expressible once the caller
//       has found their anchors (DigestAnchorsToFetch) and added them as
//       full records;
//   dane hosts with nothing expressible (digest DANE-TA without the anchor,
//       SHA-512-only or full DANE-EE) -> TEMP tlsa_not_expressible;
//   no dane host, a mandatory host -> "encrypt"; only opportunistic -> "may";
//   defer -> TEMP with the reason; reject -> TEMP (the transport table bounces).
#ifndef DANEGATE_PLUGIN_POSTFIX_POSTFIX_POLICY_H_
#define DANEGATE_PLUGIN_POSTFIX_POSTFIX_POLICY_H_

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "danegate/v1/validator.pb.h"
#include "plugin/agent/map_reply.h"
#include "service/tlsa/record.h"

namespace danegate::postfix {

using agent::MapReply;

struct TlsPolicy {
  enum class Level { kMay, kEncrypt, kFingerprint, kSecure } level = Level::kMay;
  std::vector<std::string> fingerprints;  // kFingerprint: lower-case SHA-256 hex
  std::string trust_anchors_pem;          // kSecure: CERTIFICATE / PUBLIC KEY blocks
  std::vector<std::string> match_names;   // kSecure: names the leaf may carry
  std::string reason;                     // reason code of the decision
};

// Why no TLS policy can be given: Postfix must not deliver now (TEMP). A
// defer, a reject (the transport table bounces it) or records a policy
// cannot express.
struct NoPolicy {
  std::string reason;  // reason code
  std::string detail;
};

// A dane host (answer.mx(mx_index)) whose TLSA records a policy can express
// only with the full trust anchors its digest DANE-TA records (2 x 1, 2 x 2;
// the strongest digest per selector, RFC 7671 §9) name: no DANE-EE SHA-256
// and no full DANE-TA record. Once found (e.g. in the chain the host
// presents), each anchor is added to the host as the record 2 S 0 FULL-DATA
// and TlsPolicyFor can express it.
struct AnchorsToFetch {
  int mx_index = 0;
  std::vector<tlsa::TlsaRecord> records;
};
std::vector<AnchorsToFetch> DigestAnchorsToFetch(const v1::ResolvePolicyResponse& answer);

// Returns the TLS policy for `answer`, or why there is none.
std::variant<TlsPolicy, NoPolicy> TlsPolicyFor(const v1::ResolvePolicyResponse& answer);

// Returns the policy table text, e.g. "fingerprint match=ab..|cd..";
// `tafile` is where policy.trust_anchors_pem was stored (kSecure only).
std::string TlsPolicyText(const TlsPolicy& policy, absl::string_view tafile);

// Returns the transport table entry for `answer`: "error:5.1.10 ..." for a
// reject, nothing (NOTFOUND: Postfix's own routing) otherwise.
std::optional<std::string> TransportFor(const v1::ResolvePolicyResponse& answer);

// The lookup keys each table answers. A TLS policy key must be a mail
// domain (else PERM: "[host]:port" next hops need their own policy entry);
// the transport table answers recipient addresses (Postfix's key for a
// socketmap) and bare domains by their domain, and leaves ".parent", "*"
// and other keys to the next table (NOTFOUND).
enum class KeyUse { kAsk, kNotFound, kPerm };
struct ParsedKey {
  KeyUse use = KeyUse::kPerm;
  std::string domain;  // kAsk: canonical
  std::string error;   // kPerm
};
ParsedKey ParsePolicyKey(absl::string_view key);
ParsedKey ParseTransportKey(absl::string_view key);

// Returns `der` as a PEM block with `label` ("CERTIFICATE", "PUBLIC KEY").
std::string Pem(absl::string_view label, absl::string_view der);

}  // namespace danegate::postfix

#endif  // DANEGATE_PLUGIN_POSTFIX_POSTFIX_POLICY_H_
