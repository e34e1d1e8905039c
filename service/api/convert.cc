#include "service/api/convert.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/dns/name.h"

namespace danegate::api {
namespace {

void FillTlsa(const tlsa::TlsaRecord& record, v1::TlsaRecord* out) {
  out->set_usage(record.usage);
  out->set_selector(record.selector);
  out->set_matching_type(record.matching_type);
  out->set_data(record.data);
}

void FillHost(const policy::HostPolicy& host, v1::MxHost* out) {
  out->set_host(host.host);
  out->set_preference(host.preference);
  out->set_dnssec(ToProto(host.dnssec));
  out->set_tls(ToProto(host.tls));
  for (const tlsa::TlsaRecord& record : host.tlsa) FillTlsa(record, out->add_tlsa());
  out->set_tlsa_base_domain(host.tlsa_base_domain);
  out->set_canonical_name(host.canonical_name);
  for (const std::string& address : host.addresses) out->add_addresses(address);
  out->set_tlsa_ttl(host.tlsa_ttl);
  if (host.tlsa_signatures_expire != absl::InfiniteFuture()) {
    out->set_tlsa_signatures_expire(absl::ToUnixSeconds(host.tlsa_signatures_expire));
  }
  out->set_reason(ToProto(host.reason));
  out->set_detail(host.detail);
}

}  // namespace

absl::StatusOr<uint16_t> ValidatePort(uint32_t port) {
  if (port == 0) return 25;
  if (port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port: ", port, " is outside 1..65535"));
  }
  return static_cast<uint16_t>(port);
}

absl::StatusOr<PolicyQuery> ValidateRequest(const v1::ResolvePolicyRequest& request) {
  PolicyQuery query;
  absl::StatusOr<std::string> domain = dns::CanonicalMailName(request.domain(), "domain");
  if (!domain.ok()) return domain.status();
  absl::StatusOr<uint16_t> port = ValidatePort(request.port());
  if (!port.ok()) return port.status();
  query.domain = *std::move(domain);
  query.port = *port;
  return query;
}

absl::StatusOr<PeerQuery> ValidateRequest(const v1::VerifyPeerRequest& request,
                                          const ChainCheck& check_chain) {
  PeerQuery query;
  absl::StatusOr<std::string> domain = dns::CanonicalMailName(request.domain(), "domain");
  if (!domain.ok()) return domain.status();
  absl::StatusOr<std::string> mx_host = dns::CanonicalMailName(request.mx_host(), "mx_host");
  if (!mx_host.ok()) return mx_host.status();
  absl::StatusOr<uint16_t> port = ValidatePort(request.port());
  if (!port.ok()) return port.status();
  query.chain.assign(request.chain().begin(), request.chain().end());
  if (absl::Status s = check_chain(query.chain); !s.ok()) return s;
  query.domain = *std::move(domain);
  query.mx_host = *std::move(mx_host);
  query.port = *port;
  return query;
}

v1::ResolvePolicyResponse ToProto(const policy::DomainPolicy& policy) {
  v1::ResolvePolicyResponse response;
  response.set_domain(policy.domain);
  response.set_action(ToProto(policy.action));
  response.set_reason(ToProto(policy.reason));
  response.set_detail(policy.detail);
  for (const policy::HostPolicy& host : policy.hosts) FillHost(host, response.add_mx());
  response.set_canonical_domain(policy.canonical_domain);
  response.set_mx_dnssec(ToProto(policy.mx_dnssec));
  return response;
}

v1::VerifyPeerResponse ToProto(const policy::PeerVerdict& verdict) {
  v1::VerifyPeerResponse response;
  response.set_domain(verdict.domain);
  response.set_action(ToProto(verdict.action));
  response.set_authenticated(verdict.authenticated);
  response.set_reason(ToProto(verdict.reason));
  response.set_detail(verdict.detail);
  if (verdict.host.has_value()) FillHost(*verdict.host, response.mutable_mx());
  if (verdict.matched.has_value()) FillTlsa(*verdict.matched, response.mutable_matched_tlsa());
  return response;
}

v1::Action ToProto(policy::Action action) {
  switch (action) {
    case policy::Action::kDeliver: return v1::ACTION_DELIVER;
    case policy::Action::kDefer: return v1::ACTION_DEFER;
    case policy::Action::kReject: return v1::ACTION_REJECT;
  }
  return v1::ACTION_DEFER;
}

v1::TlsMode ToProto(policy::TlsMode mode) {
  switch (mode) {
    case policy::TlsMode::kDane: return v1::TLS_MODE_DANE;
    case policy::TlsMode::kMandatory: return v1::TLS_MODE_MANDATORY;
    case policy::TlsMode::kOpportunistic: return v1::TLS_MODE_OPPORTUNISTIC;
    case policy::TlsMode::kUnreachable: return v1::TLS_MODE_UNREACHABLE;
  }
  return v1::TLS_MODE_UNREACHABLE;
}

v1::Reason ToProto(policy::Reason reason) {
  using policy::Reason;
  switch (reason) {
    case Reason::kDaneAuthenticated: return v1::REASON_DANE_AUTHENTICATED;
    case Reason::kDaneRequired: return v1::REASON_DANE_REQUIRED;
    case Reason::kDaneMismatch: return v1::REASON_DANE_MISMATCH;
    case Reason::kTlsaUnusable: return v1::REASON_TLSA_UNUSABLE;
    case Reason::kInsecureNoDane: return v1::REASON_INSECURE_NO_DANE;
    case Reason::kNoTlsa: return v1::REASON_NO_TLSA;
    case Reason::kDnssecBogus: return v1::REASON_DNSSEC_BOGUS;
    case Reason::kDnsFailure: return v1::REASON_DNS_FAILURE;
    case Reason::kNoAddress: return v1::REASON_NO_ADDRESS;
    case Reason::kNullMx: return v1::REASON_NULL_MX;
    case Reason::kDomainNotFound: return v1::REASON_DOMAIN_NOT_FOUND;
    case Reason::kInvalidArgument: return v1::REASON_INVALID_ARGUMENT;
    case Reason::kHostNotInPolicy: return v1::REASON_HOST_NOT_IN_POLICY;
  }
  return v1::REASON_UNSPECIFIED;
}

v1::DnssecStatus ToProto(dns::DnssecState state) {
  switch (state) {
    case dns::DnssecState::kSecure: return v1::DNSSEC_STATUS_SECURE;
    case dns::DnssecState::kInsecure: return v1::DNSSEC_STATUS_INSECURE;
    case dns::DnssecState::kBogus: return v1::DNSSEC_STATUS_BOGUS;
    case dns::DnssecState::kIndeterminate: return v1::DNSSEC_STATUS_INDETERMINATE;
  }
  return v1::DNSSEC_STATUS_INDETERMINATE;
}

std::string EnumToken(absl::string_view value_name, absl::string_view prefix) {
  if (absl::StartsWith(value_name, prefix)) value_name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(value_name);
}

std::string ReasonToken(v1::Reason reason) { return EnumToken(v1::Reason_Name(reason), "REASON_"); }

}  // namespace danegate::api
