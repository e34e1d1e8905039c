// One row per RFC 7672 rule, failure paths beside the happy ones.
#include "service/policy/rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::policy {
namespace {

using dns::DnsAnswer;
using dns::DnssecState;
using dns::LookupStatus;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kSecure = DnssecState::kSecure;
constexpr auto kInsecure = DnssecState::kInsecure;
constexpr auto kBogus = DnssecState::kBogus;
constexpr auto kIndeterminate = DnssecState::kIndeterminate;
constexpr auto kOk = LookupStatus::kOk;
constexpr auto kNoData = LookupStatus::kNoData;
constexpr auto kNx = LookupStatus::kNxDomain;
constexpr auto kFail = LookupStatus::kFailure;

DnsAnswer Answer(std::string qname, LookupStatus status, DnssecState dnssec) {
  DnsAnswer a;
  a.qname = qname;
  a.canonical_name = std::move(qname);
  a.status = status;
  a.dnssec = dnssec;
  if (status == kFail) a.error = "SERVFAIL";
  return a;
}

DnsAnswer Mx(LookupStatus status, DnssecState dnssec, std::vector<dns::MxRecord> records = {}) {
  DnsAnswer a = Answer("example.com", status, dnssec);
  a.mx = std::move(records);
  return a;
}

DnsAnswer Addr(LookupStatus status, DnssecState dnssec, std::string canonical = "mx.example.com") {
  DnsAnswer a = Answer("mx.example.com", status, dnssec);
  a.canonical_name = std::move(canonical);
  if (status == kOk) a.addresses = {"192.0.2.1"};
  return a;
}

DnsAnswer Tlsa(LookupStatus status, DnssecState dnssec,
               std::vector<tlsa::TlsaRecord> records = {}) {
  DnsAnswer a = Answer("_25._tcp.mx.example.com", status, dnssec);
  a.tlsa = std::move(records);
  return a;
}

const tlsa::TlsaRecord k311{3, 1, 1, std::string(32, 'a')};
const tlsa::TlsaRecord k211{2, 1, 1, std::string(32, 'b')};
const tlsa::TlsaRecord kPkix{1, 1, 1, std::string(32, 'c')};
const tlsa::TlsaRecord kShort{3, 1, 1, std::string(20, 'd')};
const MxCandidate kMx{"mx.example.com", 10};

TEST(PlanFromMxTest, DecidedDomains) {
  struct Row {
    std::string name;
    DnsAnswer mx;
    Action want_action;
    Reason want_reason;
  };
  const Row rows[] = {
      {"MX lookup failed (SERVFAIL/timeout) defers", Mx(kFail, kIndeterminate), Action::kDefer,
       Reason::kDnsFailure},
      {"MX lookup failed even if marked insecure", Mx(kFail, kInsecure), Action::kDefer,
       Reason::kDnsFailure},
      {"bogus MX RRset defers", Mx(kOk, kBogus, {{10, "mx.example.com"}}), Action::kDefer,
       Reason::kDnssecBogus},
      {"indeterminate MX RRset defers", Mx(kOk, kIndeterminate, {{10, "mx.example.com"}}),
       Action::kDefer, Reason::kDnssecBogus},
      {"bogus NXDOMAIN defers, never rejects", Mx(kNx, kBogus), Action::kDefer,
       Reason::kDnssecBogus},
      {"secure NXDOMAIN rejects", Mx(kNx, kSecure), Action::kReject, Reason::kDomainNotFound},
      {"insecure NXDOMAIN rejects", Mx(kNx, kInsecure), Action::kReject, Reason::kDomainNotFound},
      {"null MX rejects", Mx(kOk, kSecure, {{0, ""}}), Action::kReject, Reason::kNullMx},
      {"null MX in an insecure zone rejects", Mx(kOk, kInsecure, {{0, ""}}), Action::kReject,
       Reason::kNullMx},
      {"null MX beside other MX rejects", Mx(kOk, kSecure, {{10, "mx.example.com"}, {0, ""}}),
       Action::kReject, Reason::kNullMx},
  };
  for (const Row& row : rows) {
    const MxPlan got = PlanFromMx("example.com", 25, row.mx);
    ASSERT_TRUE(got.decided.has_value()) << row.name;
    EXPECT_EQ(got.decided->action, row.want_action) << row.name;
    EXPECT_EQ(got.decided->reason, row.want_reason) << row.name;
    EXPECT_EQ(got.decided->domain, "example.com") << row.name;
    EXPECT_TRUE(got.decided->hosts.empty()) << row.name;
  }
}

TEST(PlanFromMxTest, NoMxMeansTheDomainItself) {
  const MxPlan got = PlanFromMx("example.com", 25, Mx(kNoData, kSecure));
  ASSERT_FALSE(got.decided.has_value());
  ASSERT_EQ(got.candidates.size(), 1u);
  EXPECT_EQ(got.candidates[0].host, "example.com");
  EXPECT_EQ(got.candidates[0].preference, 0);
  EXPECT_EQ(got.mx_dnssec, kSecure);
}

TEST(PlanFromMxTest, SortsByPreferenceDropsDuplicatesAndInvalidNames) {
  const MxPlan got = PlanFromMx("example.com", 25,
                                Mx(kOk, kSecure,
                                   {{20, "b.example.com"},
                                    {10, "a.example.com"},
                                    {30, "a.example.com"},
                                    {5, "bad*name.example"}}));
  ASSERT_FALSE(got.decided.has_value());
  ASSERT_EQ(got.candidates.size(), 2u);
  EXPECT_EQ(got.candidates[0].host, "a.example.com");
  EXPECT_EQ(got.candidates[1].host, "b.example.com");
  ASSERT_EQ(got.invalid_hosts.size(), 1u);
  EXPECT_EQ(got.invalid_hosts[0].tls, TlsMode::kUnreachable);
  EXPECT_THAT(got.invalid_hosts[0].detail, HasSubstr("contains '*'"));
}

TEST(PlanFromMxTest, BoundsTheNumberOfHosts) {
  std::vector<dns::MxRecord> many;
  for (int i = 0; i < 40; ++i)
    many.push_back({static_cast<uint16_t>(i), "mx" + std::to_string(i) + ".example.com"});
  const MxPlan got = PlanFromMx("example.com", 25, Mx(kOk, kSecure, many));
  EXPECT_EQ(got.candidates.size(), kMaxMxHosts);
  EXPECT_THAT(got.note, HasSubstr("24 MX hosts beyond the first 16 ignored"));
}

TEST(HostBehindInsecureMxTest, IsOpportunistic) {
  const HostPolicy got = HostBehindInsecureMx(kMx);
  EXPECT_EQ(got.tls, TlsMode::kOpportunistic);
  EXPECT_EQ(got.reason, Reason::kInsecureNoDane);
  EXPECT_EQ(got.dnssec, kInsecure);
}

TEST(DecideFromAddressesTest, Table) {
  struct Row {
    std::string name;
    DnsAnswer a, aaaa;
    bool want_tlsa_lookup;
    TlsMode want_tls = TlsMode::kUnreachable;
    Reason want_reason = Reason::kDnsFailure;
  };
  const Row rows[] = {
      {"secure A and AAAA: look up TLSA", Addr(kOk, kSecure), Addr(kOk, kSecure), true},
      {"secure A, secure AAAA NODATA", Addr(kOk, kSecure), Addr(kNoData, kSecure), true},
      {"secure AAAA only", Addr(kNoData, kSecure), Addr(kOk, kSecure), true},
      {"AAAA failed but A secure", Addr(kOk, kSecure), Addr(kFail, kIndeterminate), true},
      // Issue 13 #7, as Postfix: a bogus family is dropped when the other
      // validated; TLSA still binds the host.
      {"A bogus, AAAA secure: the secure family", Addr(kOk, kBogus), Addr(kOk, kSecure), true},
      {"AAAA bogus NODATA, A secure: the secure family", Addr(kOk, kSecure), Addr(kNoData, kBogus),
       true},
      {"A bogus, no AAAA", Addr(kOk, kBogus), Addr(kNoData, kSecure), false, TlsMode::kUnreachable,
       Reason::kDnssecBogus},
      {"both bogus", Addr(kOk, kBogus), Addr(kOk, kBogus), false, TlsMode::kUnreachable,
       Reason::kDnssecBogus},
      {"A bogus, AAAA failed", Addr(kOk, kBogus), Addr(kFail, kIndeterminate), false,
       TlsMode::kUnreachable, Reason::kDnssecBogus},
      {"A indeterminate, AAAA secure: the secure family", Addr(kOk, kIndeterminate),
       Addr(kOk, kSecure), true},
      {"A bogus, AAAA insecure: no DANE", Addr(kOk, kBogus), Addr(kOk, kInsecure), false,
       TlsMode::kOpportunistic, Reason::kInsecureNoDane},
      {"both failed", Addr(kFail, kIndeterminate), Addr(kFail, kIndeterminate), false,
       TlsMode::kUnreachable, Reason::kDnsFailure},
      {"A failed, no AAAA", Addr(kFail, kIndeterminate), Addr(kNoData, kSecure), false,
       TlsMode::kUnreachable, Reason::kDnsFailure},
      {"no addresses", Addr(kNoData, kSecure), Addr(kNoData, kSecure), false, TlsMode::kUnreachable,
       Reason::kNoAddress},
      {"host does not exist", Addr(kNx, kSecure), Addr(kNx, kSecure), false, TlsMode::kUnreachable,
       Reason::kNoAddress},
      {"insecure addresses: no DANE", Addr(kOk, kInsecure), Addr(kNoData, kInsecure), false,
       TlsMode::kOpportunistic, Reason::kInsecureNoDane},
      {"one family insecure: no DANE", Addr(kOk, kSecure), Addr(kNoData, kInsecure), false,
       TlsMode::kOpportunistic, Reason::kInsecureNoDane},
  };
  for (const Row& row : rows) {
    const std::optional<HostPolicy> got = DecideFromAddresses(kMx, row.a, row.aaaa);
    ASSERT_EQ(!got.has_value(), row.want_tlsa_lookup) << row.name;
    if (got.has_value()) {
      EXPECT_EQ(got->tls, row.want_tls) << row.name;
      EXPECT_EQ(got->reason, row.want_reason) << row.name;
      EXPECT_EQ(got->host, "mx.example.com") << row.name;
      EXPECT_EQ(got->preference, 10) << row.name;
    }
  }
}

TEST(TlsaBaseDomainsTest, ExpandedNameFirstThenOriginal) {
  // RFC 7672 §2.2.2.
  EXPECT_THAT(TlsaBaseDomains(kMx, Addr(kOk, kSecure, "real.example.net"), Addr(kNoData, kSecure)),
              ElementsAre("real.example.net", "mx.example.com"));
  EXPECT_THAT(TlsaBaseDomains(kMx, Addr(kNoData, kSecure), Addr(kOk, kSecure, "v6.example.net")),
              ElementsAre("v6.example.net", "mx.example.com"));
  EXPECT_THAT(TlsaBaseDomains(kMx, Addr(kOk, kSecure), Addr(kOk, kSecure)),
              ElementsAre("mx.example.com"));
}

TEST(TryNextTlsaBaseTest, Rfc7672Section2_2_3AfterADenialOrInsecureRecords) {
  struct Row {
    std::string name;
    DnsAnswer tlsa;
    bool want;
  };
  const Row rows[] = {
      {"secure NODATA", Tlsa(kNoData, kSecure), true},
      {"secure NXDOMAIN", Tlsa(kNx, kSecure), true},
      // "If any 'insecure' records are encountered ... the next candidate
      // TLSA base domain is tried instead."
      {"insecure records", Tlsa(kOk, kInsecure, {k311}), true},
      {"insecure NODATA", Tlsa(kNoData, kInsecure), true},
      {"secure records decide", Tlsa(kOk, kSecure, {k311}), false},
      {"secure unusable records decide", Tlsa(kOk, kSecure, {kPkix}), false},
      {"bogus stops", Tlsa(kNx, kBogus), false},
      {"indeterminate stops", Tlsa(kOk, kIndeterminate, {k311}), false},
      {"failure stops", Tlsa(kFail, kIndeterminate), false},
  };
  for (const Row& row : rows) EXPECT_EQ(TryNextTlsaBase(row.tlsa), row.want) << row.name;
}

// RFC 7672 §2.2.2: insecure addresses reached through a CNAME.
TEST(AliasTest, Rfc7672Section2_2_2SecureCnameToAnInsecureTarget) {
  const DnsAnswer via_alias = Addr(kOk, kInsecure, "mx.unsigned.example");
  const HostPolicy insecure = *DecideFromAddresses(kMx, via_alias, Addr(kNoData, kInsecure));
  EXPECT_TRUE(NeedsAliasCheck(kMx, insecure, via_alias, Addr(kNoData, kInsecure)));
  // No CNAME: nothing more to ask.
  const DnsAnswer direct = Addr(kOk, kInsecure);
  EXPECT_FALSE(NeedsAliasCheck(kMx, *DecideFromAddresses(kMx, direct, direct), direct, direct));

  struct Row {
    std::string name;
    DnsAnswer alias;
    bool want_tlsa_at_original;
    TlsMode want_tls;
  };
  auto alias = [](LookupStatus status, DnssecState dnssec) {
    DnsAnswer a = Answer("mx.example.com", status, dnssec);
    if (status == kOk) a.canonical_name = "mx.unsigned.example";
    return a;
  };
  const Row rows[] = {
      {"secure CNAME: TLSA at the original name", alias(kOk, kSecure), true, TlsMode::kDane},
      {"insecure CNAME: DANE does not apply", alias(kOk, kInsecure), false,
       TlsMode::kOpportunistic},
      {"bogus CNAME: unreachable", alias(kOk, kBogus), false, TlsMode::kUnreachable},
      {"failed CNAME lookup: unreachable, never cleartext", alias(kFail, kIndeterminate), false,
       TlsMode::kUnreachable},
  };
  for (const Row& row : rows) {
    const std::optional<HostPolicy> got = DecideFromAlias(kMx, insecure, row.alias);
    EXPECT_EQ(!got.has_value(), row.want_tlsa_at_original) << row.name;
    if (got.has_value()) {
      EXPECT_EQ(got->tls, row.want_tls) << row.name;
    }
  }
}

TEST(InsecureMxTest, Rfc7672Section2_2_1HostsAreEvaluatedUnderDane) {
  const MxPlan secure = PlanFromMx("example.com", 25, Mx(kOk, kSecure, {{10, "mx.example.com"}}));
  const MxPlan insecure =
      PlanFromMx("example.com", 25, Mx(kOk, kInsecure, {{10, "mx.example.com"}}));
  EXPECT_TRUE(EvaluateHosts(secure, InsecureMxPolicy::kDane));
  EXPECT_TRUE(EvaluateHosts(secure, InsecureMxPolicy::kMay));
  EXPECT_TRUE(EvaluateHosts(insecure, InsecureMxPolicy::kDane));
  EXPECT_FALSE(EvaluateHosts(insecure, InsecureMxPolicy::kMay));
  EXPECT_EQ(*ParseInsecureMxPolicy("--insecure-mx-policy", "dane"), InsecureMxPolicy::kDane);
  EXPECT_EQ(*ParseInsecureMxPolicy("--insecure-mx-policy", "may"), InsecureMxPolicy::kMay);
  EXPECT_FALSE(ParseInsecureMxPolicy("--insecure-mx-policy", "encrypt").ok());
}

TEST(ReferenceNamesTest, Rfc7672Section3_2_2NextHopDomainIncluded) {
  DomainPolicy policy;
  policy.domain = "example.com";
  HostPolicy host = DecideFromTlsa(kMx, "real.example.net", Tlsa(kOk, kSecure, {k211}));
  EXPECT_THAT(ReferenceNames(policy, host),
              ElementsAre("real.example.net", "mx.example.com", "example.com"));
  // The domain's CNAME expansion too; each name once.
  policy.canonical_domain = "mail.example.org";
  EXPECT_THAT(ReferenceNames(policy, host),
              ElementsAre("real.example.net", "mx.example.com", "example.com", "mail.example.org"));
  policy.domain = "MX.example.com";  // no MX: the domain is the host
  policy.canonical_domain = "";
  EXPECT_THAT(ReferenceNames(policy, host), ElementsAre("real.example.net", "mx.example.com"));
}

TEST(PlanFromMxTest, RecordsTheDomainsCnameExpansion) {
  DnsAnswer mx = Mx(kOk, kSecure, {{10, "mx.example.com"}});
  mx.canonical_name = "mail.example.org";
  EXPECT_EQ(PlanFromMx("example.com", 25, mx).canonical_domain, "mail.example.org");
  EXPECT_EQ(
      PlanFromMx("example.com", 25, Mx(kOk, kSecure, {{10, "mx.example.com"}})).canonical_domain,
      "");
}

DnsAnswer Undecodable(size_t count, std::vector<tlsa::TlsaRecord> records) {
  DnsAnswer a = Tlsa(kOk, kSecure, std::move(records));
  a.undecodable_records = count + 1;
  return a;
}

// A DER SEQUENCE that is no SubjectPublicKeyInfo.
const tlsa::TlsaRecord kNotSpki{3, 1, 0, std::string("\x30\x03\x02\x01\x00", 5)};

TEST(DecideFromTlsaTest, Table) {
  struct Row {
    std::string name;
    DnsAnswer tlsa;
    TlsMode want_tls;
    Reason want_reason;
  };
  const Row rows[] = {
      {"usable DANE-EE", Tlsa(kOk, kSecure, {k311}), TlsMode::kDane, Reason::kDaneRequired},
      {"usable DANE-TA", Tlsa(kOk, kSecure, {k211}), TlsMode::kDane, Reason::kDaneRequired},
      {"usable beside unusable", Tlsa(kOk, kSecure, {kPkix, k311}), TlsMode::kDane,
       Reason::kDaneRequired},
      {"all unusable: mandatory TLS", Tlsa(kOk, kSecure, {kPkix, kShort}), TlsMode::kMandatory,
       Reason::kTlsaUnusable},
      {"secure NODATA: no TLSA", Tlsa(kNoData, kSecure), TlsMode::kOpportunistic, Reason::kNoTlsa},
      {"secure NXDOMAIN: no TLSA", Tlsa(kNx, kSecure), TlsMode::kOpportunistic, Reason::kNoTlsa},
      {"insecure TLSA: no DANE", Tlsa(kOk, kInsecure, {k311}), TlsMode::kOpportunistic,
       Reason::kInsecureNoDane},
      {"bogus TLSA: unreachable", Tlsa(kOk, kBogus, {k311}), TlsMode::kUnreachable,
       Reason::kDnssecBogus},
      {"bogus denial: unreachable", Tlsa(kNoData, kBogus), TlsMode::kUnreachable,
       Reason::kDnssecBogus},
      {"indeterminate: unreachable", Tlsa(kOk, kIndeterminate, {k311}), TlsMode::kUnreachable,
       Reason::kDnssecBogus},
      {"failed lookup: unreachable, never opportunistic", Tlsa(kFail, kIndeterminate),
       TlsMode::kUnreachable, Reason::kDnsFailure},
      // RFC 7671 §9: records that cannot be read are unusable, never absent.
      {"only undecodable records: mandatory TLS, not NODATA", Undecodable(0, {}),
       TlsMode::kMandatory, Reason::kTlsaUnusable},
      {"undecodable beside usable: DANE", Undecodable(2, {k311}), TlsMode::kDane,
       Reason::kDaneRequired},
      // RFC 7671 §9 again: an exact-match record that is not a certificate
      // or key is malformed, discarded before the rest.
      {"only a malformed 3 1 0: mandatory TLS", Tlsa(kOk, kSecure, {kNotSpki}), TlsMode::kMandatory,
       Reason::kTlsaUnusable},
  };
  for (const Row& row : rows) {
    const HostPolicy got = DecideFromTlsa(kMx, "real.example.net", row.tlsa);
    EXPECT_EQ(got.tls, row.want_tls) << row.name;
    EXPECT_EQ(got.reason, row.want_reason) << row.name;
    EXPECT_EQ(got.preference, 10) << row.name;
    if (row.want_tls == TlsMode::kDane || row.want_tls == TlsMode::kMandatory) {
      EXPECT_EQ(got.tlsa, row.tlsa.tlsa) << row.name;
      EXPECT_EQ(got.tlsa_base_domain, "real.example.net") << row.name;
    }
  }
}

HostPolicy Host(std::string name, uint16_t preference, TlsMode tls, Reason reason) {
  HostPolicy h;
  h.host = std::move(name);
  h.preference = preference;
  h.tls = tls;
  h.reason = reason;
  if (tls == TlsMode::kDane) h.tlsa = {k311};
  h.tlsa_base_domain = h.host;
  return h;
}

TEST(DecideDomainTest, Table) {
  struct Row {
    std::string name;
    std::vector<HostPolicy> hosts;
    Action want_action;
    Reason want_reason;
  };
  const Row rows[] = {
      {"first usable host",
       {Host("a.example", 10, TlsMode::kDane, Reason::kDaneRequired)},
       Action::kDeliver,
       Reason::kDaneRequired},
      {"first bogus, second good: deliver via the second",
       {Host("b.example", 20, TlsMode::kDane, Reason::kDaneRequired),
        Host("a.example", 10, TlsMode::kUnreachable, Reason::kDnssecBogus)},
       Action::kDeliver,
       Reason::kDaneRequired},
      {"all unreachable: defer with the first host's reason",
       {Host("a.example", 10, TlsMode::kUnreachable, Reason::kDnssecBogus),
        Host("b.example", 20, TlsMode::kUnreachable, Reason::kDnsFailure)},
       Action::kDefer,
       Reason::kDnssecBogus},
      {"no host", {}, Action::kDefer, Reason::kDnsFailure},
  };
  for (const Row& row : rows) {
    const DomainPolicy got = DecideDomain("example.com", 25, row.hosts, "note");
    EXPECT_EQ(got.action, row.want_action) << row.name;
    EXPECT_EQ(got.reason, row.want_reason) << row.name;
    EXPECT_EQ(got.hosts.size(), row.hosts.size()) << row.name;
    for (size_t i = 1; i < got.hosts.size(); ++i) {
      EXPECT_LE(got.hosts[i - 1].preference, got.hosts[i].preference) << row.name;
    }
    EXPECT_THAT(got.detail, HasSubstr("note")) << row.name;
  }
}

TEST(DecidePeerTest, Table) {
  const DomainPolicy dane_domain =
      DecideDomain("example.com", 25,
                   {Host("mx1.example.com", 10, TlsMode::kDane, Reason::kDaneRequired),
                    Host("mx2.example.com", 20, TlsMode::kMandatory, Reason::kTlsaUnusable),
                    Host("mx3.example.com", 30, TlsMode::kOpportunistic, Reason::kNoTlsa),
                    Host("mx4.example.com", 40, TlsMode::kUnreachable, Reason::kDnssecBogus)});
  const DomainPolicy plain_domain = DecideDomain(
      "plain.example", 25,
      {Host("mx.plain.example", 10, TlsMode::kOpportunistic, Reason::kInsecureNoDane)});
  DomainPolicy deferred = dane_domain;
  deferred.action = Action::kDefer;
  deferred.reason = Reason::kDnsFailure;
  DomainPolicy rejected = plain_domain;
  rejected.action = Action::kReject;
  rejected.reason = Reason::kNullMx;

  tlsa::MatchResult matched;
  matched.matched = true;
  matched.record = k311;
  matched.depth = 0;
  tlsa::MatchResult mismatched;
  mismatched.detail = "no match";

  struct Row {
    std::string name;
    const DomainPolicy* policy;
    std::string mx;
    const tlsa::MatchResult* match;
    Action want_action;
    bool want_authenticated;
    Reason want_reason;
  };
  const Row rows[] = {
      {"dane host, chain matches", &dane_domain, "mx1.example.com", &matched, Action::kDeliver,
       true, Reason::kDaneAuthenticated},
      {"dane host, host name in other case", &dane_domain, "MX1.Example.COM", &matched,
       Action::kDeliver, true, Reason::kDaneAuthenticated},
      {"dane host, mismatch", &dane_domain, "mx1.example.com", &mismatched, Action::kDefer, false,
       Reason::kDaneMismatch},
      {"dane host, no match result", &dane_domain, "mx1.example.com", nullptr, Action::kDefer,
       false, Reason::kDaneMismatch},
      {"mandatory host: TLS, unauthenticated", &dane_domain, "mx2.example.com", nullptr,
       Action::kDeliver, false, Reason::kTlsaUnusable},
      {"opportunistic host", &dane_domain, "mx3.example.com", nullptr, Action::kDeliver, false,
       Reason::kNoTlsa},
      {"unreachable host", &dane_domain, "mx4.example.com", &matched, Action::kDefer, false,
       Reason::kDnssecBogus},
      {"host outside a DANE domain's MX set", &dane_domain, "evil.example.net", nullptr,
       Action::kDefer, false, Reason::kHostNotInPolicy},
      {"host outside a non-DANE domain's MX set", &plain_domain, "relay.example.net", nullptr,
       Action::kDeliver, false, Reason::kInsecureNoDane},
      {"deferred domain", &deferred, "mx1.example.com", &matched, Action::kDefer, false,
       Reason::kDnsFailure},
      {"rejected domain", &rejected, "mx.plain.example", nullptr, Action::kReject, false,
       Reason::kNullMx},
  };
  for (const Row& row : rows) {
    const PeerVerdict got = DecidePeer(*row.policy, row.mx, row.match);
    EXPECT_EQ(got.action, row.want_action) << row.name;
    EXPECT_EQ(got.authenticated, row.want_authenticated) << row.name;
    EXPECT_EQ(got.reason, row.want_reason) << row.name;
    EXPECT_EQ(got.matched.has_value(), row.want_authenticated) << row.name;
    EXPECT_FALSE(got.detail.empty()) << row.name;
  }
}

TEST(HostFromTrustedTlsaTest, ClassifiesTheGivenRecords) {
  EXPECT_EQ(HostFromTrustedTlsa("mx.example", {k311}).tls, TlsMode::kDane);
  const HostPolicy unusable = HostFromTrustedTlsa("mx.example", {kPkix});
  EXPECT_EQ(unusable.tls, TlsMode::kMandatory);
  EXPECT_THAT(unusable.detail, HasSubstr("PKIX"));
}

TEST(HostFromTrustedTlsaTest, OrdersTheRrsetCanonically) {
  // DNS does not order an RRset; answers must not depend on arrival order.
  EXPECT_EQ(HostFromTrustedTlsa("mx.example", {k311, kPkix, k211}).tlsa,
            (std::vector<tlsa::TlsaRecord>{kPkix, k211, k311}));
}

TEST(PlanFromMxTest, EqualPreferencesAreOrderedByName) {
  const MxPlan got = PlanFromMx("example.com", 25,
                                Mx(kOk, kSecure, {{10, "b.example.com"}, {10, "a.example.com"}}));
  ASSERT_EQ(got.candidates.size(), 2u);
  EXPECT_EQ(got.candidates[0].host, "a.example.com");
}

TEST(FindHostTest, ByMxNameOrCnameExpandedName) {
  DomainPolicy policy = DecideDomain(
      "example.com", 25, {Host("alias.example.com", 10, TlsMode::kDane, Reason::kDaneRequired)});
  policy.hosts[0].canonical_name = "real.example.net";
  EXPECT_NE(FindHost(policy, "alias.example.com"), nullptr);
  EXPECT_NE(FindHost(policy, "REAL.example.net"), nullptr);
  EXPECT_EQ(FindHost(policy, "other.example.net"), nullptr);
}

TEST(NamesTest, ReasonNamesAreSnakeCase) {
  EXPECT_STREQ(ReasonName(Reason::kDaneAuthenticated), "dane_authenticated");
  EXPECT_STREQ(ReasonName(Reason::kHostNotInPolicy), "host_not_in_policy");
  EXPECT_STREQ(ActionName(Action::kReject), "reject");
  EXPECT_STREQ(TlsModeName(TlsMode::kMandatory), "mandatory");
}

}  // namespace
}  // namespace danegate::policy
