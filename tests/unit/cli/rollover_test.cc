// `danegate rollover`'s decisions, one row per reason code, on certificates
// minted here and policies built as danegated would answer.
#include "service/cli/rollover.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/tlsa/association.h"
#include "tests/testing/cert_factory.h"

namespace danegate::cli {
namespace {

using testing::Issue;
using testing::TestCert;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

ServerMaterial Material(const std::vector<const TestCert*>& chain,
                        absl::Duration lifetime = absl::Hours(24 * 90)) {
  ServerMaterial m;
  for (const TestCert* c : chain) m.chain.push_back(c->der());
  m.spki = *tlsa::AssociationData(m.chain[0], tlsa::kSpki, tlsa::kExact);
  m.not_after = kNow + lifetime;
  return m;
}

v1::ResolvePolicyResponse Policy(const std::vector<tlsa::TlsaRecord>& records,
                                 absl::Duration signatures = absl::Hours(24 * 30),
                                 v1::Action action = v1::ACTION_DELIVER) {
  v1::ResolvePolicyResponse p;
  p.set_domain("example.org");
  p.set_action(action);
  p.set_reason(action == v1::ACTION_DELIVER ? v1::REASON_DANE_REQUIRED : v1::REASON_DNSSEC_BOGUS);
  v1::MxHost* host = p.add_mx();
  host->set_host("mx.example.org");
  host->set_tls(v1::TLS_MODE_DANE);
  host->set_tlsa_base_domain("mx.example.org");
  host->set_tlsa_ttl(3600);
  host->set_tlsa_signatures_expire(absl::ToUnixSeconds(kNow + signatures));
  for (const tlsa::TlsaRecord& r : records) {
    v1::TlsaRecord* out = host->add_tlsa();
    out->set_usage(r.usage);
    out->set_selector(r.selector);
    out->set_matching_type(r.matching_type);
    out->set_data(r.data);
  }
  return p;
}

TEST(CheckRolloverTest, Table) {
  const TestCert root = Issue({"Root CA", {}, true});
  const TestCert old_leaf = Issue({"mx", {"mx.example.org"}});
  const TestCert new_leaf = Issue({"mx", {"mx.example.org"}});
  const TestCert ta_leaf = Issue({"mx", {"mx.example.org"}}, &root);
  const ServerMaterial old_m = Material({&old_leaf}), new_m = Material({&new_leaf});
  ServerMaterial key_only;
  key_only.spki = new_m.spki;  // the next key, before it has a certificate

  struct Row {
    std::string name;
    v1::ResolvePolicyResponse policy;
    const ServerMaterial* next;
    const ServerMaterial* current;
    bool want_safe;
    std::string want_reason;
  };
  const ServerMaterial ta_m = Material({&ta_leaf, &root});
  const ServerMaterial expiring = Material({&new_leaf}, absl::Hours(24));
  const std::vector<Row> rows = {
      {"both published: safe", Policy({old_leaf.Tlsa(3, 1, 1), new_leaf.Tlsa(3, 1, 1)}), &new_m,
       &old_m, true, "safe"},
      {"next not yet published", Policy({old_leaf.Tlsa(3, 1, 1)}), &new_m, &old_m, false,
       "next_key_not_published"},
      {"next published as a full 3 0 0 record", Policy({new_leaf.Tlsa(3, 0, 0)}), &new_m, nullptr,
       true, "safe"},
      {"next key alone, 3 1 1 published", Policy({new_leaf.Tlsa(3, 1, 1)}), &key_only, nullptr,
       true, "safe"},
      {"next key alone cannot match a 3 0 1 record", Policy({new_leaf.Tlsa(3, 0, 1)}), &key_only,
       nullptr, false, "next_key_not_published"},
      {"current no longer published", Policy({new_leaf.Tlsa(3, 1, 1)}), &new_m, &old_m, false,
       "current_key_not_published"},
      {"DANE-TA: the issuer is published", Policy({root.Tlsa(2, 1, 1)}), &ta_m, nullptr, true,
       "safe"},
      {"DANE-TA does not name the leaf itself", Policy({ta_leaf.Tlsa(2, 1, 1)}), &ta_m, nullptr,
       false, "next_key_not_published"},
      {"an unusable record names nothing",
       Policy({tlsa::TlsaRecord{1, 1, 1, new_leaf.Tlsa(3, 1, 1).data}}), &new_m, nullptr, false,
       "next_key_not_published"},
      {"signatures expire within the warning",
       Policy({new_leaf.Tlsa(3, 1, 1)}, absl::Hours(24 * 3)), &new_m, nullptr, false,
       "tlsa_rrsig_expiring"},
      {"the next certificate expires within the warning", Policy({new_leaf.Tlsa(3, 1, 1)}),
       &expiring, nullptr, false, "certificate_expiring"},
      {"warn only, nothing expiring", Policy({old_leaf.Tlsa(3, 1, 1)}), nullptr, nullptr, true,
       "safe"},
      {"a domain that is not deliverable",
       Policy({new_leaf.Tlsa(3, 1, 1)}, absl::Hours(24 * 30), v1::ACTION_DEFER), &new_m, nullptr,
       false, "policy_not_deliver"},
  };
  for (const Row& row : rows) {
    const Rollover got =
        CheckRollover(row.policy, row.next, row.current, kNow, absl::Hours(24 * 7));
    EXPECT_EQ(got.safe, row.want_safe) << row.name << ": " << got.detail;
    EXPECT_EQ(got.reason, row.want_reason) << row.name << ": " << got.detail;
  }
}

TEST(CheckRolloverTest, ReportsEachDaneHostAndSkipsOthers) {
  const TestCert leaf = Issue({"mx", {"mx.example.org"}});
  v1::ResolvePolicyResponse p = Policy({leaf.Tlsa(3, 1, 1)});
  v1::MxHost* plain = p.add_mx();
  plain->set_host("backup.example.org");
  plain->set_tls(v1::TLS_MODE_OPPORTUNISTIC);
  const ServerMaterial m = Material({&leaf});
  const Rollover got = CheckRollover(p, &m, nullptr, kNow, absl::Hours(24));
  ASSERT_EQ(got.hosts.size(), 1u);
  EXPECT_EQ(got.hosts[0].host, "mx.example.org");
  EXPECT_EQ(got.hosts[0].ttl, 3600u);
  EXPECT_EQ(got.hosts[0].next_published, true);
  EXPECT_EQ(got.hosts[0].signatures_left, absl::Hours(24 * 30));
}

}  // namespace
}  // namespace danegate::cli
