#include "service/cli/render.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/convert.h"
#include "service/common/json.h"

namespace danegate::cli {
namespace {

std::string Token(v1::Action v) { return api::EnumToken(v1::Action_Name(v), "ACTION_"); }
std::string Token(v1::Reason v) { return api::ReasonToken(v); }
std::string Token(v1::TlsMode v) { return api::EnumToken(v1::TlsMode_Name(v), "TLS_MODE_"); }
std::string Token(v1::DnssecStatus v) {
  return api::EnumToken(v1::DnssecStatus_Name(v), "DNSSEC_STATUS_");
}

}  // namespace

std::string TlsaJson(const v1::TlsaRecord& r) {
  return absl::StrCat("{\"usage\":", r.usage(), ",\"selector\":", r.selector(),
                      ",\"matching_type\":", r.matching_type(), ",\"data\":\"",
                      absl::BytesToHexString(r.data()), "\"}");
}

std::string TlsaText(const v1::TlsaRecord& r) {
  return absl::StrCat(r.usage(), " ", r.selector(), " ", r.matching_type(), " ",
                      absl::BytesToHexString(r.data()));
}

namespace {

std::string HostJson(const v1::MxHost& h) {
  std::vector<std::string> tlsa, addresses;
  for (const v1::TlsaRecord& r : h.tlsa()) tlsa.push_back(TlsaJson(r));
  for (const std::string& a : h.addresses()) addresses.push_back(common::JsonString(a));
  return absl::StrCat(
      "{\"host\":", common::JsonString(h.host()), ",\"preference\":", h.preference(),
      ",\"dnssec\":\"", Token(h.dnssec()), "\",\"tls\":\"", Token(h.tls()), "\",\"reason\":\"",
      Token(h.reason()), "\",\"detail\":", common::JsonString(h.detail()),
      ",\"tlsa_base_domain\":", common::JsonString(h.tlsa_base_domain()),
      ",\"canonical_name\":", common::JsonString(h.canonical_name()), ",\"addresses\":[",
      absl::StrJoin(addresses, ","), "],\"tlsa\":[", absl::StrJoin(tlsa, ","), "]}");
}

std::string HostText(const v1::MxHost& h) {
  std::string out = absl::StrCat("  MX ", h.preference(), " ", h.host(), "\n    dnssec ",
                                 Token(h.dnssec()), ", tls ", Token(h.tls()), ", reason ",
                                 Token(h.reason()), "\n    ", h.detail(), "\n");
  if (h.addresses_size() > 0) {
    absl::StrAppend(&out, "    addresses ", absl::StrJoin(h.addresses(), " "), "\n");
  }
  for (const v1::TlsaRecord& r : h.tlsa()) {
    absl::StrAppend(&out, "    TLSA ", TlsaText(r), "\n");
  }
  return out;
}

}  // namespace

std::string PolicyJson(const v1::ResolvePolicyResponse& p) {
  std::vector<std::string> hosts;
  for (const v1::MxHost& h : p.mx()) hosts.push_back(HostJson(h));
  return absl::StrCat("{\"domain\":", common::JsonString(p.domain()), ",\"action\":\"",
                      Token(p.action()), "\",\"authenticated\":false,\"reason\":\"",
                      Token(p.reason()), "\",\"detail\":", common::JsonString(p.detail()),
                      ",\"mx_dnssec\":\"", Token(p.mx_dnssec()),
                      "\",\"canonical_domain\":", common::JsonString(p.canonical_domain()),
                      ",\"mx\":[", absl::StrJoin(hosts, ","), "]}");
}

std::string VerdictJson(const v1::VerifyPeerResponse& v) {
  return absl::StrCat(
      "{\"domain\":", common::JsonString(v.domain()), ",\"action\":\"", Token(v.action()),
      "\",\"authenticated\":", v.authenticated() ? "true" : "false", ",\"reason\":\"",
      Token(v.reason()), "\",\"detail\":", common::JsonString(v.detail()),
      ",\"matched_tlsa\":", v.has_matched_tlsa() ? TlsaJson(v.matched_tlsa()) : "null", ",\"mx\":[",
      v.has_mx() ? HostJson(v.mx()) : "", "]}");
}

std::string PolicyText(const v1::ResolvePolicyResponse& p) {
  std::string out = absl::StrCat("domain  ", p.domain(), "\naction  ", Token(p.action()),
                                 "\nreason  ", Token(p.reason()), "\ndetail  ", p.detail(),
                                 "\nMX RRset dnssec ", Token(p.mx_dnssec()), "\n");
  if (!p.canonical_domain().empty()) {
    absl::StrAppend(&out, "canonical domain ", p.canonical_domain(), "\n");
  }
  for (const v1::MxHost& h : p.mx()) absl::StrAppend(&out, HostText(h));
  return out;
}

std::string VerdictText(const v1::VerifyPeerResponse& v) {
  std::string out =
      absl::StrCat("domain         ", v.domain(), "\naction         ", Token(v.action()),
                   "\nauthenticated  ", v.authenticated() ? "yes" : "no", "\nreason         ",
                   Token(v.reason()), "\ndetail         ", v.detail(), "\n");
  if (v.has_matched_tlsa()) {
    absl::StrAppend(&out, "matched        TLSA ", TlsaText(v.matched_tlsa()), "\n");
  }
  if (v.has_mx()) absl::StrAppend(&out, HostText(v.mx()));
  return out;
}

int ExitStatus(v1::Action action) {
  switch (action) {
    case v1::ACTION_DELIVER: return 0;
    case v1::ACTION_REJECT: return 69;
    default: return 75;
  }
}

namespace {

std::string OptionalBool(const std::optional<bool>& value) {
  return value.has_value() ? (*value ? "true" : "false") : "null";
}

std::string Said(const std::optional<bool>& value) {
  return value.has_value() ? (*value ? "published" : "NOT published") : "-";
}

}  // namespace

std::string RolloverJson(const std::string& domain, const Rollover& r) {
  std::vector<std::string> hosts;
  for (const HostRollover& h : r.hosts) {
    std::vector<std::string> problems;
    for (const std::string& p : h.problems) problems.push_back(common::JsonString(p));
    hosts.push_back(absl::StrCat(
        "{\"host\":", common::JsonString(h.host),
        ",\"next_published\":", OptionalBool(h.next_published),
        ",\"current_published\":", OptionalBool(h.current_published), ",\"tlsa_ttl\":", h.ttl,
        ",\"signatures_expire_in_seconds\":",
        h.signatures_left ? absl::StrCat(absl::ToInt64Seconds(*h.signatures_left)) : "null",
        ",\"problems\":[", absl::StrJoin(problems, ","), "]}"));
  }
  return absl::StrCat(
      "{\"domain\":", common::JsonString(domain), ",\"safe\":", r.safe ? "true" : "false",
      ",\"reason\":", common::JsonString(r.reason), ",\"detail\":", common::JsonString(r.detail),
      ",\"hosts\":[", absl::StrJoin(hosts, ","), "]}");
}

std::string RolloverText(const std::string& domain, const Rollover& r) {
  std::string out = absl::StrCat("domain  ", domain, "\nverdict ", r.safe ? "safe" : "UNSAFE", " (",
                                 r.reason, ")\ndetail  ", r.detail, "\n");
  for (const HostRollover& h : r.hosts) {
    absl::StrAppend(
        &out, "  ", h.host, "\n    next ", Said(h.next_published), ", current ",
        Said(h.current_published), ", TLSA TTL ", h.ttl, " s, RRSIGs expire in ",
        h.signatures_left ? absl::FormatDuration(absl::Trunc(*h.signatures_left, absl::Minutes(1)))
                          : "-",
        h.problems.empty() ? "" : absl::StrCat("\n    problems ", absl::StrJoin(h.problems, ", ")),
        "\n");
  }
  return out;
}

}  // namespace danegate::cli
