#include "service/cli/render.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/convert.h"

namespace danegate::cli {
namespace {

std::string Token(v1::Action v) { return api::EnumToken(v1::Action_Name(v), "ACTION_"); }
std::string Token(v1::Reason v) { return api::EnumToken(v1::Reason_Name(v), "REASON_"); }
std::string Token(v1::TlsMode v) { return api::EnumToken(v1::TlsMode_Name(v), "TLS_MODE_"); }
std::string Token(v1::DnssecStatus v) {
  return api::EnumToken(v1::DnssecStatus_Name(v), "DNSSEC_STATUS_");
}

std::string TlsaJson(const v1::TlsaRecord& r) {
  return absl::StrCat("{\"usage\":", r.usage(), ",\"selector\":", r.selector(),
                      ",\"matching_type\":", r.matching_type(), ",\"data\":\"",
                      absl::BytesToHexString(r.data()), "\"}");
}

std::string HostJson(const v1::MxHost& h) {
  std::vector<std::string> tlsa;
  for (const v1::TlsaRecord& r : h.tlsa()) tlsa.push_back(TlsaJson(r));
  return absl::StrCat("{\"host\":", JsonString(h.host()), ",\"preference\":", h.preference(),
                      ",\"dnssec\":\"", Token(h.dnssec()), "\",\"tls\":\"", Token(h.tls()),
                      "\",\"reason\":\"", Token(h.reason()), "\",\"detail\":",
                      JsonString(h.detail()), ",\"tlsa_base_domain\":",
                      JsonString(h.tlsa_base_domain()), ",\"tlsa\":[",
                      absl::StrJoin(tlsa, ","), "]}");
}

std::string TlsaText(const v1::TlsaRecord& r) {
  return absl::StrCat(r.usage(), " ", r.selector(), " ", r.matching_type(), " ",
                      absl::BytesToHexString(r.data()));
}

std::string HostText(const v1::MxHost& h) {
  std::string out = absl::StrCat("  MX ", h.preference(), " ", h.host(), "\n    dnssec ",
                                 Token(h.dnssec()), ", tls ", Token(h.tls()), ", reason ",
                                 Token(h.reason()), "\n    ", h.detail(), "\n");
  for (const v1::TlsaRecord& r : h.tlsa()) {
    absl::StrAppend(&out, "    TLSA ", TlsaText(r), "\n");
  }
  return out;
}

}  // namespace

namespace {

// Returns the length of the well-formed UTF-8 sequence at text[i], or 0.
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t len = 0;
  uint32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    len = 2, min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    len = 3, min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  uint32_t cp = lead & (0xff >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\u00", absl::Hex(u, absl::kZeroPad2));
    } else if (u < 0x80) {
      out += c;
    } else if (const size_t len = Utf8SequenceLength(text, i); len > 0) {
      out.append(text.data() + i, len);  // valid UTF-8 is valid JSON
      i += len - 1;
    } else {
      out += "\\ufffd";  // a stray byte (details may quote hostile data)
    }
  }
  out += "\"";
  return out;
}

std::string PolicyJson(const v1::ResolvePolicyResponse& p) {
  std::vector<std::string> hosts;
  for (const v1::MxHost& h : p.mx()) hosts.push_back(HostJson(h));
  return absl::StrCat("{\"domain\":", JsonString(p.domain()), ",\"action\":\"",
                      Token(p.action()), "\",\"authenticated\":false,\"reason\":\"",
                      Token(p.reason()), "\",\"detail\":", JsonString(p.detail()), ",\"mx\":[",
                      absl::StrJoin(hosts, ","), "]}");
}

std::string VerdictJson(const v1::VerifyPeerResponse& v) {
  return absl::StrCat(
      "{\"domain\":", JsonString(v.domain()), ",\"action\":\"", Token(v.action()),
      "\",\"authenticated\":", v.authenticated() ? "true" : "false", ",\"reason\":\"",
      Token(v.reason()), "\",\"detail\":", JsonString(v.detail()),
      ",\"matched_tlsa\":", v.has_matched_tlsa() ? TlsaJson(v.matched_tlsa()) : "null",
      ",\"mx\":[", v.has_mx() ? HostJson(v.mx()) : "", "]}");
}

std::string PolicyText(const v1::ResolvePolicyResponse& p) {
  std::string out = absl::StrCat("domain  ", p.domain(), "\naction  ", Token(p.action()),
                                 "\nreason  ", Token(p.reason()), "\ndetail  ", p.detail(), "\n");
  for (const v1::MxHost& h : p.mx()) absl::StrAppend(&out, HostText(h));
  return out;
}

std::string VerdictText(const v1::VerifyPeerResponse& v) {
  std::string out = absl::StrCat("domain         ", v.domain(), "\naction         ",
                                 Token(v.action()), "\nauthenticated  ",
                                 v.authenticated() ? "yes" : "no", "\nreason         ",
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

}  // namespace danegate::cli
