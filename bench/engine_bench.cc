// In-process baselines (Google Benchmark): the floor under any RPC.
//   BM_PolicyDecision   the RFC 7672 rules for one host and the verdict
//   BM_Match311         OpenSSL DANE-EE 3 1 1 match of a leaf
//   BM_MatchTaChain     OpenSSL DANE-TA 2 1 1 match of a 3-certificate chain
//   BM_EngineCached     a whole ResolvePolicy through the engine with every
//                       answer already at hand (what a cache hit costs)
#include <benchmark/benchmark.h>

#include "service/engine/dane_engine.h"
#include "service/policy/rules.h"
#include "service/tlsa/matcher.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/fake_resolver.h"

namespace danegate {
namespace {

using dns::DnsAnswer;
using dns::DnssecState;
using dns::LookupStatus;

DnsAnswer Secure(LookupStatus status) {
  DnsAnswer a;
  a.status = status;
  a.dnssec = DnssecState::kSecure;
  a.ttl = 300;
  return a;
}

void BM_PolicyDecision(benchmark::State& state) {
  const testing::TestCert cert = testing::Issue({"mx"});
  const std::vector<tlsa::TlsaRecord> records = {cert.Tlsa(3, 1, 1)};
  tlsa::MatchResult match;
  match.matched = true;
  match.record = records[0];
  for (auto _ : state) {
    std::vector<policy::HostPolicy> hosts = {policy::HostFromTrustedTlsa("mx.example", records)};
    policy::DomainPolicy domain = policy::DecideDomain("example.com", 25, std::move(hosts));
    benchmark::DoNotOptimize(policy::DecidePeer(domain, "mx.example", &match));
  }
}
BENCHMARK(BM_PolicyDecision);

void BM_Match311(benchmark::State& state) {
  auto matcher = *tlsa::DaneMatcher::Create();
  const testing::TestCert cert = testing::Issue({"mx", {"mx.example"}});
  const tlsa::DerChain chain = {cert.der()};
  const std::vector<tlsa::TlsaRecord> records = {cert.Tlsa(3, 1, 1)};
  for (auto _ : state) {
    auto got = matcher->Match(chain, records, {"mx.example"});
    if (!got.ok() || !got->matched) state.SkipWithError("no match");
  }
}
BENCHMARK(BM_Match311);

void BM_MatchTaChain(benchmark::State& state) {
  auto matcher = *tlsa::DaneMatcher::Create();
  const testing::TestCert root = testing::Issue({"root", {}, true});
  const testing::TestCert inter = testing::Issue({"inter", {}, true}, &root);
  const testing::TestCert leaf = testing::Issue({"leaf", {"mx.example"}}, &inter);
  const tlsa::DerChain chain = testing::Chain({&leaf, &inter, &root});
  const std::vector<tlsa::TlsaRecord> records = {root.Tlsa(2, 1, 1)};
  for (auto _ : state) {
    auto got = matcher->Match(chain, records, {"mx.example"});
    if (!got.ok() || !got->matched) state.SkipWithError("no match");
  }
}
BENCHMARK(BM_MatchTaChain);

void BM_EngineCached(benchmark::State& state) {
  const testing::TestCert cert = testing::Issue({"mx"});
  testing::FakeResolver resolver;
  DnsAnswer mx = Secure(LookupStatus::kOk);
  mx.mx = {{10, "mx.example.com"}};
  resolver.Set("example.com", dns::RrType::kMx, mx);
  DnsAnswer a = Secure(LookupStatus::kOk);
  a.addresses = {"192.0.2.1"};
  resolver.Set("mx.example.com", dns::RrType::kA, a);
  resolver.Set("mx.example.com", dns::RrType::kAaaa, Secure(LookupStatus::kNoData));
  DnsAnswer tlsa = Secure(LookupStatus::kOk);
  tlsa.tlsa = {cert.Tlsa(3, 1, 1)};
  resolver.Set("_25._tcp.mx.example.com", dns::RrType::kTlsa, tlsa);
  auto matcher = *tlsa::DaneMatcher::Create();
  engine::DaneEngine engine(resolver, *matcher);
  for (auto _ : state) {
    engine.ResolvePolicy("example.com", 25,
                         [](policy::DomainPolicy p) { benchmark::DoNotOptimize(p); });
  }
}
BENCHMARK(BM_EngineCached);

}  // namespace
}  // namespace danegate

BENCHMARK_MAIN();
