#include "plugin/postfix/postfix_policy.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/convert.h"
#include "service/dns/name.h"
#include "service/tlsa/association.h"
#include "service/tlsa/record.h"

namespace danegate::postfix {
namespace {

std::string Because(v1::Reason reason, absl::string_view detail) {
  const std::string token = api::ReasonToken(reason);
  return detail.empty() ? token : absl::StrCat(token, ": ", detail);
}

// What one dane host's TLSA RRset can be turned into.
struct HostForm {
  std::vector<std::string> fingerprints;         // counting DANE-EE SHA-256 digests
  std::vector<std::string> anchors_pem;          // full DANE-TA records
  std::vector<tlsa::TlsaRecord> anchor_digests;  // counting digest DANE-TA records
};

HostForm FormOf(const v1::MxHost& host) {
  // Usable records by (usage, selector); RFC 7671 §9: among digests only the
  // strongest matching type present counts.
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> strongest;
  std::vector<tlsa::TlsaRecord> usable;
  for (const v1::TlsaRecord& r : host.tlsa()) {
    if (r.usage() > 255 || r.selector() > 255 || r.matching_type() > 255) continue;
    tlsa::TlsaRecord record{static_cast<uint8_t>(r.usage()), static_cast<uint8_t>(r.selector()),
                            static_cast<uint8_t>(r.matching_type()), r.data()};
    if (!tlsa::Classify(record).usable) continue;
    uint32_t& top = strongest[{record.usage, record.selector}];
    top = std::max<uint32_t>(top, record.matching_type);
    usable.push_back(std::move(record));
  }
  HostForm form;
  for (const tlsa::TlsaRecord& r : usable) {
    if (r.usage == tlsa::kDaneEe && r.matching_type == tlsa::kSha256 &&
        strongest[{r.usage, r.selector}] == tlsa::kSha256) {
      form.fingerprints.push_back(absl::BytesToHexString(r.data));
    } else if (r.usage == tlsa::kDaneEe && r.matching_type == tlsa::kExact) {
      // Full data: Postfix matches the SHA-256 of the certificate (3 0 0)
      // or of its SubjectPublicKeyInfo (3 1 0), which is this digest.
      absl::StatusOr<std::string> digest = tlsa::MatchingData(r.data, tlsa::kSha256);
      if (digest.ok()) form.fingerprints.push_back(absl::BytesToHexString(*digest));
    } else if (r.usage == tlsa::kDaneTa && r.matching_type == tlsa::kExact) {
      form.anchors_pem.push_back(
          Pem(r.selector == tlsa::kFullCert ? "CERTIFICATE" : "PUBLIC KEY", r.data));
    } else if (r.usage == tlsa::kDaneTa && r.matching_type == strongest[{r.usage, r.selector}]) {
      form.anchor_digests.push_back(r);
    }
  }
  return form;
}

void AddUnique(std::vector<std::string>& to, const std::string& value) {
  if (!value.empty() && std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

}  // namespace

std::vector<AnchorsToFetch> DigestAnchorsToFetch(const v1::ResolvePolicyResponse& answer) {
  std::vector<AnchorsToFetch> out;
  if (answer.action() != v1::ACTION_DELIVER) return out;
  for (int i = 0; i < answer.mx_size(); ++i) {
    if (answer.mx(i).tls() != v1::TLS_MODE_DANE) continue;
    HostForm form = FormOf(answer.mx(i));
    if (form.fingerprints.empty() && form.anchors_pem.empty() && !form.anchor_digests.empty()) {
      out.push_back(AnchorsToFetch{i, std::move(form.anchor_digests)});
    }
  }
  return out;
}

std::variant<TlsPolicy, NoPolicy> TlsPolicyFor(const v1::ResolvePolicyResponse& answer) {
  if (answer.action() == v1::ACTION_REJECT) {
    return NoPolicy{
        api::ReasonToken(answer.reason()),
        absl::StrCat(answer.detail(), " (rejected: bounced by the danegate transport table)")};
  }
  if (answer.action() != v1::ACTION_DELIVER) {
    return NoPolicy{api::ReasonToken(answer.reason()), answer.detail()};
  }
  enum class Kind { kNone, kFingerprint, kSecure } kind = Kind::kNone;
  bool mandatory = false, dane = false;
  std::vector<std::pair<const v1::MxHost*, HostForm>> dane_hosts;
  for (const v1::MxHost& host : answer.mx()) {
    if (host.tls() == v1::TLS_MODE_MANDATORY) mandatory = true;
    if (host.tls() != v1::TLS_MODE_DANE) continue;
    dane = true;
    HostForm form = FormOf(host);
    if (kind == Kind::kNone) {
      // The most-preferred host that can be expressed sets the kind.
      if (!form.fingerprints.empty())
        kind = Kind::kFingerprint;
      else if (!form.anchors_pem.empty())
        kind = Kind::kSecure;
    }
    dane_hosts.emplace_back(&host, std::move(form));
  }
  TlsPolicy policy;
  policy.reason = api::ReasonToken(answer.reason());
  if (!dane) {
    policy.level = mandatory ? TlsPolicy::Level::kEncrypt : TlsPolicy::Level::kMay;
    return policy;
  }
  if (kind == Kind::kNone) {
    return NoPolicy{"tlsa_not_expressible",
                    "no MX host has a DANE-EE record or a full DANE-TA trust anchor, "
                    "all a Postfix TLS policy can enforce"};
  }
  // DANE-EE: any published key of the domain's dane hosts (no names are
  // checked). DANE-TA: the anchors of the most-preferred host that has
  // them, and the names of the hosts with exactly those anchors: another
  // host's anchor (say a public CA) must not pass a certificate for this
  // host's name (say one with a private CA).
  const std::vector<std::string>* anchors = nullptr;
  for (auto& [host, form] : dane_hosts) {
    if (kind == Kind::kFingerprint) {
      for (const std::string& d : form.fingerprints) AddUnique(policy.fingerprints, d);
      continue;
    }
    if (form.anchors_pem.empty()) continue;
    std::sort(form.anchors_pem.begin(), form.anchors_pem.end());
    form.anchors_pem.erase(std::unique(form.anchors_pem.begin(), form.anchors_pem.end()),
                           form.anchors_pem.end());
    if (anchors == nullptr) {
      anchors = &form.anchors_pem;
      policy.trust_anchors_pem = absl::StrJoin(form.anchors_pem, "");
    } else if (form.anchors_pem != *anchors) {
      continue;
    }
    AddUnique(policy.match_names, host->tlsa_base_domain());
    AddUnique(policy.match_names, host->host());
    AddUnique(policy.match_names, host->canonical_name());
  }
  // RFC 7672 §3.2.2: the next-hop domain (and its CNAME expansion) is a
  // reference identifier too.
  if (kind == Kind::kSecure) {
    AddUnique(policy.match_names, answer.domain());
    AddUnique(policy.match_names, answer.canonical_domain());
  }
  policy.level =
      kind == Kind::kFingerprint ? TlsPolicy::Level::kFingerprint : TlsPolicy::Level::kSecure;
  return policy;
}

std::string TlsPolicyText(const TlsPolicy& policy, absl::string_view tafile) {
  switch (policy.level) {
    case TlsPolicy::Level::kMay: return "may";
    case TlsPolicy::Level::kEncrypt: return "encrypt";
    case TlsPolicy::Level::kFingerprint:
      return absl::StrCat("fingerprint match=", absl::StrJoin(policy.fingerprints, "|"));
    case TlsPolicy::Level::kSecure:
      return absl::StrCat("secure tafile=", tafile,
                          " match=", absl::StrJoin(policy.match_names, ":"));
  }
  return "encrypt";
}

std::optional<std::string> TransportFor(const v1::ResolvePolicyResponse& answer) {
  if (answer.action() != v1::ACTION_REJECT) return std::nullopt;
  // RFC 7505 §4.2: 5.1.10 for a null MX; RFC 3463: 5.1.2 bad destination.
  const char* code = answer.reason() == v1::REASON_NULL_MX            ? "5.1.10"
                     : answer.reason() == v1::REASON_DOMAIN_NOT_FOUND ? "5.1.2"
                                                                      : "5.7.1";
  std::string text =
      absl::StrCat("error:", code, " danegate: ", Because(answer.reason(), answer.detail()));
  // The entry is one line of the table.
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

ParsedKey ParsePolicyKey(absl::string_view key) {
  ParsedKey parsed;
  if (absl::StrContains(key, '[') || absl::StrContains(key, ':')) {
    parsed.error =
        absl::StrCat("danegate answers for mail domains only, not the next hop '",
                     absl::CHexEscape(key.substr(0, 300)), "': give it its own policy entry");
    return parsed;
  }
  absl::StatusOr<std::string> domain = dns::CanonicalMailName(key, "key");
  if (!domain.ok()) {
    parsed.error = std::string(domain.status().message());
    return parsed;
  }
  parsed.use = KeyUse::kAsk;
  parsed.domain = *std::move(domain);
  return parsed;
}

ParsedKey ParseTransportKey(absl::string_view key) {
  ParsedKey parsed;
  parsed.use = KeyUse::kNotFound;
  // Postfix asks a socketmap transport table with the whole recipient
  // address (it is a pattern table); a plain domain is answered too.
  const size_t at = key.rfind('@');
  if (at != absl::string_view::npos) key.remove_prefix(at + 1);
  absl::StatusOr<std::string> domain = dns::CanonicalMailName(key, "key");
  if (domain.ok()) {
    parsed.use = KeyUse::kAsk;
    parsed.domain = *std::move(domain);
  }
  return parsed;
}

std::string Pem(absl::string_view label, absl::string_view der) {
  const std::string b64 = absl::Base64Escape(der);
  std::string pem = absl::StrCat("-----BEGIN ", label, "-----\n");
  for (size_t i = 0; i < b64.size(); i += 64) {
    absl::StrAppend(&pem, b64.substr(i, 64), "\n");
  }
  absl::StrAppend(&pem, "-----END ", label, "-----\n");
  return pem;
}

}  // namespace danegate::postfix
