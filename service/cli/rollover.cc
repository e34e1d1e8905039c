#include "service/cli/rollover.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/api/convert.h"
#include "service/common/file.h"
#include "service/tlsa/association.h"

namespace danegate::cli {
namespace {

tlsa::TlsaRecord FromProto(const v1::TlsaRecord& r) {
  return {static_cast<uint8_t>(r.usage()), static_cast<uint8_t>(r.selector()),
          static_cast<uint8_t>(r.matching_type()), r.data()};
}

// The association data of `der` (a certificate) or, for a bare key, of its
// SubjectPublicKeyInfo, as `record` would carry it.
bool DataMatches(const tlsa::TlsaRecord& record, const std::string* der, const std::string& spki) {
  absl::StatusOr<std::string> data =
      der != nullptr ? tlsa::AssociationData(*der, record.selector, record.matching_type)
      : record.selector == tlsa::kSpki ? tlsa::MatchingData(spki, record.matching_type)
                                       : absl::StatusOr<std::string>(absl::NotFoundError(""));
  return data.ok() && *data == record.data;
}

}  // namespace

absl::StatusOr<ServerMaterial> ReadServerMaterial(const std::string& flag,
                                                  const std::string& path) {
  absl::StatusOr<std::string> pem = common::ReadFileBounded(path, 1 << 20);
  if (!pem.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, " ", pem.status().message()));
  ServerMaterial material;
  if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    absl::StatusOr<std::string> spki = tlsa::SpkiFromPemKey(*pem);
    if (!spki.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " ", path, ": ", spki.status().message()));
    }
    material.spki = *std::move(spki);
    return material;
  }
  absl::StatusOr<tlsa::DerChain> chain = tlsa::ReadPemChain(path);
  if (!chain.ok())
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", chain.status().message()));
  material.chain = *std::move(chain);
  absl::StatusOr<std::string> spki =
      tlsa::AssociationData(material.chain[0], tlsa::kSpki, tlsa::kExact);
  absl::StatusOr<absl::Time> not_after = tlsa::CertificateNotAfter(material.chain[0]);
  if (!spki.ok() || !not_after.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": the leaf does not parse"));
  }
  material.spki = *std::move(spki);
  material.not_after = *not_after;
  return material;
}

bool Names(const tlsa::TlsaRecord& record, const ServerMaterial& material) {
  if (!tlsa::Classify(record).usable) return false;
  if (record.usage == tlsa::kDaneEe) {
    return DataMatches(record, material.chain.empty() ? nullptr : &material.chain[0],
                       material.spki);
  }
  // DANE-TA: a certificate the server sends above its leaf.
  for (size_t i = 1; i < material.chain.size(); ++i) {
    if (DataMatches(record, &material.chain[i], "")) return true;
  }
  return false;
}

Rollover CheckRollover(const v1::ResolvePolicyResponse& policy, const ServerMaterial* next,
                       const ServerMaterial* current, absl::Time now, absl::Duration warn) {
  Rollover out;
  auto problem = [&out](std::string code, std::string detail) {
    if (out.reason.empty()) {
      out.reason = std::move(code);
      out.detail = std::move(detail);
    }
  };
  if (policy.action() != v1::ACTION_DELIVER) {
    problem("policy_not_deliver",
            absl::StrCat("the domain's policy is ", api::ReasonToken(policy.reason()), ": ",
                         policy.detail()));
  }
  for (const auto& [material, which] : {std::pair{current, "current"}, std::pair{next, "next"}}) {
    if (material != nullptr && material->not_after - now < warn) {
      problem("certificate_expiring",
              absl::StrCat("the ", which, " certificate expires ",
                           absl::FormatTime("%Y-%m-%d %H:%M UTC", material->not_after,
                                            absl::UTCTimeZone())));
    }
  }
  for (const v1::MxHost& host : policy.mx()) {
    if (host.tls() != v1::TLS_MODE_DANE) continue;
    HostRollover h;
    h.host = host.host();
    h.ttl = host.tlsa_ttl();
    std::vector<tlsa::TlsaRecord> records;
    for (const v1::TlsaRecord& r : host.tlsa()) records.push_back(FromProto(r));
    auto named_by_any = [&records](const ServerMaterial& m) {
      return std::any_of(records.begin(), records.end(),
                         [&m](const tlsa::TlsaRecord& r) { return Names(r, m); });
    };
    if (current != nullptr) {
      h.current_published = named_by_any(*current);
      if (!*h.current_published) {
        h.problems.push_back("current_key_not_published");
        problem("current_key_not_published",
                absl::StrCat(h.host,
                             ": no usable TLSA record names the current certificate: "
                             "mail to it is deferred now"));
      }
    }
    if (next != nullptr) {
      h.next_published = named_by_any(*next);
      if (!*h.next_published) {
        h.problems.push_back("next_key_not_published");
        problem("next_key_not_published",
                absl::StrCat(h.host, ": publish a record for the next certificate or key (",
                             "`danegate tlsa --cert NEXT`), wait the TTL (", h.ttl,
                             " s), then deploy it"));
      }
    }
    if (host.tlsa_signatures_expire() != 0) {
      h.signatures_left = absl::FromUnixSeconds(host.tlsa_signatures_expire()) - now;
      if (*h.signatures_left < warn) {
        h.problems.push_back("tlsa_rrsig_expiring");
        problem(
            "tlsa_rrsig_expiring",
            absl::StrCat(h.host, ": the RRSIGs over ", host.tlsa_base_domain(),
                         "'s TLSA RRset expire in ",
                         absl::FormatDuration(absl::Trunc(*h.signatures_left, absl::Minutes(1))),
                         ": re-sign the zone"));
      }
    }
    out.hosts.push_back(std::move(h));
  }
  out.safe = out.reason.empty();
  if (out.safe) {
    out.reason = "safe";
    out.detail = out.hosts.empty() ? "no DANE host: no TLSA record to keep in step"
                 : next != nullptr
                     ? "every DANE host publishes a record for the next certificate or key"
                     : "nothing expires within the warning period";
  }
  return out;
}

}  // namespace danegate::cli
