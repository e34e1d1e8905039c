#include "service/cli/probe.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "service/api/convert.h"
#include "service/cli/render.h"
#include "service/common/json.h"
#include "service/tlsa/association.h"

namespace danegate::cli {
namespace {

std::string ActionToken(v1::Action v) { return api::EnumToken(v1::Action_Name(v), "ACTION_"); }
std::string TlsToken(v1::TlsMode v) { return api::EnumToken(v1::TlsMode_Name(v), "TLS_MODE_"); }

// "192.0.2.1" → "192.0.2.1:25"; "2001:db8::1" → "[2001:db8::1]:25".
std::string WithPort(const std::string& address, uint16_t port) {
  return address.find(':') == std::string::npos ? absl::StrCat(address, ":", port)
                                                : absl::StrCat("[", address, "]:", port);
}

AddressProbe ProbeAddress(const v1::ResolvePolicyResponse& policy, const v1::MxHost& host,
                          const std::string& address, uint16_t port, absl::Time deadline,
                          const ProbeIo& io) {
  AddressProbe probe;
  probe.address = address;
  // The SNI an MTA sends: the TLSA base domain (RFC 7672 §8.1).
  const std::string& sni = host.tlsa_base_domain().empty() ? host.host() : host.tlsa_base_domain();
  smtp::Session session = io.start_tls(WithPort(address, port), sni, deadline);
  probe.failure = session.failure;
  probe.error = std::move(session.error);
  if (session.failure == smtp::Failure::kNone) {
    probe.protocol = std::move(session.protocol);
    probe.cipher = std::move(session.cipher);
    if (absl::StatusOr<absl::Time> expiry = tlsa::CertificateNotAfter(session.chain.front());
        expiry.ok()) {
      probe.not_after = *expiry;
    }
    v1::VerifyPeerRequest request;
    request.set_domain(policy.domain());
    request.set_mx_host(host.host());
    request.set_port(port);
    for (std::string& der : session.chain) request.add_chain(std::move(der));
    absl::StatusOr<v1::VerifyPeerResponse> verdict = io.verify(request);
    if (verdict.ok()) {
      probe.verdict = *std::move(verdict);
    } else {
      probe.error = absl::StrCat("validator: ", verdict.status().message());
    }
  }
  DecideAddress(host, probe);
  return probe;
}

}  // namespace

void DecideAddress(const v1::MxHost& host, AddressProbe& probe) {
  const bool tls_required = host.tls() != v1::TLS_MODE_OPPORTUNISTIC;
  switch (probe.failure) {
    case smtp::Failure::kNone:
      if (probe.verdict.has_value()) {
        probe.action = probe.verdict->action();
        probe.reason = api::ReasonToken(probe.verdict->reason());
      } else {
        probe.action = v1::ACTION_DEFER;
        probe.reason = "validator_unavailable";
      }
      return;
    case smtp::Failure::kStartTlsNotOffered:
    case smtp::Failure::kStartTlsRefused:
    case smtp::Failure::kTls:
      // Opportunistic TLS falls back to cleartext; DANE and mandatory TLS
      // never do.
      probe.action = tls_required ? v1::ACTION_DEFER : v1::ACTION_DELIVER;
      break;
    case smtp::Failure::kConnect:
    case smtp::Failure::kSmtp:
    case smtp::Failure::kTimeout: probe.action = v1::ACTION_DEFER; break;
  }
  probe.reason = smtp::FailureName(probe.failure);
}

Probe ProbeDomain(const v1::ResolvePolicyResponse& policy, uint16_t port, absl::Duration per_host,
                  const ProbeIo& io) {
  Probe probe;
  probe.policy = policy;
  probe.action = policy.action();
  probe.reason = api::ReasonToken(policy.reason());
  if (policy.action() != v1::ACTION_DELIVER) return probe;  // nothing to connect to
  bool all_deliver = true;
  std::string first_failure;
  for (const v1::MxHost& host : policy.mx()) {
    HostProbe& out = probe.hosts.emplace_back();
    out.policy = host;
    if (host.tls() == v1::TLS_MODE_UNREACHABLE) {
      out.not_probed = absl::StrCat("unreachable: ", api::ReasonToken(host.reason()));
    } else if (host.addresses().empty()) {
      out.not_probed = "no addresses in the policy";
    }
    if (!out.not_probed.empty()) {
      all_deliver = false;
      if (first_failure.empty()) {
        first_failure =
            host.tls() == v1::TLS_MODE_UNREACHABLE ? api::ReasonToken(host.reason()) : "no_address";
      }
      continue;
    }
    const absl::Time deadline = io.now() + per_host;
    for (int i = 0; i < host.addresses_size(); ++i) {
      // An equal share of the host's time left for each remaining address.
      const absl::Time now = io.now();
      const absl::Time share =
          now + std::max(absl::ZeroDuration(), deadline - now) / (host.addresses_size() - i);
      AddressProbe address = ProbeAddress(policy, host, host.addresses(i), port, share, io);
      if (address.action == v1::ACTION_DELIVER) {
        if (probe.delivers_via.empty()) {
          probe.delivers_via = absl::StrCat(host.host(), " ", address.address);
          probe.reason = address.reason;
        }
      } else {
        all_deliver = false;
        if (first_failure.empty()) first_failure = address.reason;
      }
      out.addresses.push_back(std::move(address));
    }
  }
  if (!all_deliver) {
    probe.action = v1::ACTION_DEFER;
    probe.reason = first_failure;
  }
  return probe;
}

namespace {

std::string Expiry(absl::Time not_after, absl::Time now) {
  if (not_after == absl::InfinitePast()) return "";
  return absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", not_after, absl::UTCTimeZone()), " (",
                      absl::ToInt64Hours(not_after - now) / 24, " days)");
}

std::string AddressJson(const AddressProbe& a, absl::Time now) {
  const bool read = a.not_after != absl::InfinitePast();
  return absl::StrCat(
      "{\"address\":", common::JsonString(a.address), ",\"action\":\"", ActionToken(a.action),
      "\",\"reason\":", common::JsonString(a.reason), ",\"stopped_at\":\"",
      smtp::FailureName(a.failure), "\",\"error\":", common::JsonString(a.error),
      ",\"protocol\":", common::JsonString(a.protocol),
      ",\"cipher\":", common::JsonString(a.cipher),
      ",\"authenticated\":", a.verdict && a.verdict->authenticated() ? "true" : "false",
      ",\"matched_tlsa\":",
      a.verdict && a.verdict->has_matched_tlsa() ? TlsaJson(a.verdict->matched_tlsa()) : "null",
      ",\"certificate_not_after\":",
      read ? common::JsonString(
                 absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", a.not_after, absl::UTCTimeZone()))
           : "null",
      ",\"certificate_expires_in_seconds\":",
      read ? absl::StrCat(absl::ToInt64Seconds(a.not_after - now)) : "null", "}");
}

}  // namespace

std::string ProbeJson(const Probe& p, absl::Time now) {
  std::vector<std::string> hosts;
  for (const HostProbe& h : p.hosts) {
    std::vector<std::string> addresses;
    for (const AddressProbe& a : h.addresses) addresses.push_back(AddressJson(a, now));
    hosts.push_back(absl::StrCat("{\"host\":", common::JsonString(h.policy.host()), ",\"tls\":\"",
                                 TlsToken(h.policy.tls()),
                                 "\",\"not_probed\":", common::JsonString(h.not_probed),
                                 ",\"addresses\":[", absl::StrJoin(addresses, ","), "]}"));
  }
  return absl::StrCat("{\"domain\":", common::JsonString(p.policy.domain()), ",\"action\":\"",
                      ActionToken(p.action), "\",\"reason\":", common::JsonString(p.reason),
                      ",\"delivers_via\":", common::JsonString(p.delivers_via),
                      ",\"policy\":", PolicyJson(p.policy), ",\"hosts\":[",
                      absl::StrJoin(hosts, ","), "]}");
}

std::string ProbeText(const Probe& p, absl::Time now) {
  std::string out = PolicyText(p.policy);
  if (!p.hosts.empty()) absl::StrAppend(&out, "\nprobe\n");
  for (const HostProbe& h : p.hosts) {
    absl::StrAppend(&out, "  ", h.policy.host(), " (tls ", TlsToken(h.policy.tls()), ")\n");
    if (!h.not_probed.empty()) absl::StrAppend(&out, "    not probed: ", h.not_probed, "\n");
    for (const AddressProbe& a : h.addresses) {
      absl::StrAppend(
          &out, absl::StrFormat("    %-15s %-7s %s\n", a.address, ActionToken(a.action), a.reason));
      if (a.failure == smtp::Failure::kNone) {
        absl::StrAppend(
            &out, "      ", a.protocol, " ", a.cipher,
            a.verdict && a.verdict->authenticated() ? ", authenticated" : ", not authenticated",
            "\n");
        if (a.verdict && a.verdict->has_matched_tlsa()) {
          absl::StrAppend(&out, "      matched TLSA ", TlsaText(a.verdict->matched_tlsa()), "\n");
        }
        const std::string expiry = Expiry(a.not_after, now);
        if (!expiry.empty()) absl::StrAppend(&out, "      certificate expires ", expiry, "\n");
      }
      if (!a.error.empty()) absl::StrAppend(&out, "      ", a.error, "\n");
    }
  }
  absl::StrAppend(
      &out, "\nresult  ", ActionToken(p.action), " (", p.reason, ")",
      p.delivers_via.empty() ? "" : absl::StrCat(", first delivery to ", p.delivers_via), "\n");
  return out;
}

}  // namespace danegate::cli
