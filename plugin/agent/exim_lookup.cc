#include "plugin/agent/exim_lookup.h"

#include <charconv>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/api/convert.h"

namespace danegate::agent {
namespace {

constexpr size_t kMaxDetail = 300;

// Keeps text that goes into an Exim string printable, on one line, without
// the '|' that separates address_data's fields, and short.
std::string ExiSafe(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxDetail)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? ' ' : c == '|' ? '/' : c;
  }
  return out;
}

std::string Verdict(v1::Action action, v1::Reason reason, absl::string_view detail) {
  return absl::StrCat("danegate ", action == v1::ACTION_REJECT ? "reject" : "defer", " (",
                      api::ReasonToken(reason), "): ", ExiSafe(detail));
}

// A name as it may appear in an Exim list or as an extract key: lower-case
// LDH, dots and underscores only (danegated's names are; anything else is
// left out, which only ever makes TLS required).
bool ListSafe(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

MapReply Ok(std::string value, v1::Reason reason) {
  return MapReply{MapReply::Status::kOk, std::move(value), api::ReasonToken(reason)};
}

MapReply Invalid(absl::string_view why) {
  return MapReply::Failure(MapReply::Status::kPerm, "invalid_argument", std::string(why));
}

// The reply for a question danegated did not answer: its INVALID_ARGUMENT is
// the request's fault (PERM), anything else the validator's (TEMP).
MapReply Unanswered(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument) return Invalid(status.message());
  return MapReply::Failure(
      MapReply::Status::kTemp, "validator_unavailable",
      absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message()));
}

bool ParsePort(absl::string_view text, uint32_t* port) {
  const char* end = text.data() + text.size();
  const auto parsed = std::from_chars(text.data(), end, *port);
  return !text.empty() && parsed.ec == std::errc() && parsed.ptr == end && *port >= 1 &&
         *port <= 65535;
}

}  // namespace

std::string EximPolicyValue(const v1::ResolvePolicyResponse& answer) {
  std::string route;
  if (answer.action() == v1::ACTION_REJECT) {
    route = ":fail: " + Verdict(answer.action(), answer.reason(), answer.detail());
  } else if (answer.action() != v1::ACTION_DELIVER) {
    route = ":defer: " + Verdict(answer.action(), answer.reason(), answer.detail());
  }
  // A name is exempt from TLS only when no host that needs TLS (or that
  // danegate could not resolve) carries it, under either of its names.
  absl::flat_hash_set<std::string> not_exempt;
  for (const v1::MxHost& mx : answer.mx()) {
    if (mx.tls() != v1::TLS_MODE_OPPORTUNISTIC) {
      not_exempt.insert(mx.host());
      not_exempt.insert(mx.canonical_name());
    }
  }
  std::vector<std::string> exempt, sni;
  absl::flat_hash_set<std::string> listed, sni_listed;
  for (const v1::MxHost& mx : answer.mx()) {
    for (const std::string& name : {mx.host(), mx.canonical_name()}) {
      if (!ListSafe(name)) continue;
      if (mx.tls() == v1::TLS_MODE_OPPORTUNISTIC) {
        if (!not_exempt.contains(name) && listed.insert(name).second) exempt.push_back(name);
      } else if (mx.tls() == v1::TLS_MODE_DANE || mx.tls() == v1::TLS_MODE_MANDATORY) {
        const std::string& base = mx.tlsa_base_domain().empty() ? mx.host() : mx.tlsa_base_domain();
        if (ListSafe(base) && sni_listed.insert(name).second) {
          sni.push_back(absl::StrCat(name, "=", base));
        }
      }
    }
  }
  if (answer.action() != v1::ACTION_DELIVER) exempt.clear();
  return absl::StrCat(route, "|", absl::StrJoin(exempt, ":"), "|", absl::StrJoin(sni, " "));
}

std::string EximVerifyValue(const v1::VerifyPeerResponse& answer) {
  if (answer.action() != v1::ACTION_DELIVER) {
    return absl::StrCat("deny ", Verdict(answer.action(), answer.reason(), answer.detail()));
  }
  std::string value = absl::StrCat("deliver ", api::ReasonToken(answer.reason()));
  if (answer.authenticated()) {
    const v1::TlsaRecord& r = answer.matched_tlsa();
    const std::string hex = absl::BytesToHexString(r.data());
    absl::StrAppend(&value, " TLSA ", r.usage(), " ", r.selector(), " ", r.matching_type(), " ",
                    hex.substr(0, 64), hex.size() > 64 ? "..." : "");
  }
  return value;
}

MapReply EximLookup::Answer(absl::string_view map, absl::string_view key) const {
  const std::vector<absl::string_view> fields = absl::StrSplit(key, ' ');
  if (map == kEximPolicyMap) {
    v1::ResolvePolicyRequest request;
    uint32_t port = 0;
    if (fields.size() != 2 || !ParsePort(fields[1], &port)) {
      return Invalid("want 'exim_policy DOMAIN PORT'");
    }
    request.set_domain(std::string(fields[0]));
    request.set_port(port);
    absl::StatusOr<v1::ResolvePolicyResponse> answer = ask_policy_(request);
    if (!answer.ok()) return Unanswered(answer.status());
    return Ok(EximPolicyValue(*answer), answer->reason());
  }
  if (map == kEximVerifyMap) {
    v1::VerifyPeerRequest request;
    uint32_t port = 0;
    if (fields.size() < 4 || !ParsePort(fields[2], &port)) {
      return Invalid("want 'exim_verify DOMAIN HOST PORT CERT_BASE64...'");
    }
    if (fields.size() - 3 > kMaxEximChain) {
      return Invalid(absl::StrCat("more than ", kMaxEximChain, " certificates"));
    }
    request.set_domain(std::string(fields[0]));
    request.set_mx_host(std::string(fields[1]));
    request.set_port(port);
    for (size_t i = 3; i < fields.size(); ++i) {
      std::string der;
      if (fields[i].size() > (kMaxEximCertificate + 2) / 3 * 4 ||
          !absl::Base64Unescape(fields[i], &der) || der.empty()) {
        return Invalid(absl::StrCat("certificate ", i - 3, " is not base64 DER of at most ",
                                    kMaxEximCertificate, " bytes"));
      }
      request.add_chain(std::move(der));
    }
    absl::StatusOr<v1::VerifyPeerResponse> answer = ask_verify_(request);
    if (!answer.ok()) return Unanswered(answer.status());
    return Ok(EximVerifyValue(*answer), answer->reason());
  }
  return Invalid(absl::StrCat("unknown map '", absl::CHexEscape(map.substr(0, 64)), "'"));
}

}  // namespace danegate::agent
