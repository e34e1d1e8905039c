#include "service/dns/caching_resolver.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_resolver.h"

namespace danegate::dns {
namespace {

class CachingResolverTest : public ::testing::Test {
 protected:
  DnsAnswer Answer(LookupStatus status, DnssecState dnssec, uint32_t ttl) {
    DnsAnswer a;
    a.status = status;
    a.dnssec = dnssec;
    a.ttl = ttl;
    if (status == LookupStatus::kOk) a.addresses = {"192.0.2.1"};
    return a;
  }

  // Looks `name` up and returns the answer (the fake answers at once unless
  // deferred).
  DnsAnswer Ask(const std::string& name, RrType type = RrType::kA) {
    DnsAnswer got;
    cache_.Lookup(name, type, [&](DnsAnswer a) { got = std::move(a); });
    return got;
  }

  size_t UpstreamQueries() const { return upstream_.asked().size(); }

  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  testing::FakeResolver upstream_;
  CacheLimits limits_{.max_entries = 3,
                      .max_ttl = absl::Hours(1),
                      .max_negative_ttl = absl::Seconds(60),
                      .failure_ttl = absl::Seconds(2)};
  CachingResolver cache_{upstream_, limits_, [this] { return now_; }};
};

TEST_F(CachingResolverTest, ServesFromCacheUntilTheTtlPasses) {
  upstream_.Set("a.example", RrType::kA, Answer(LookupStatus::kOk, DnssecState::kSecure, 300));
  EXPECT_EQ(Ask("a.example").addresses.size(), 1u);
  EXPECT_EQ(Ask("a.example").addresses.size(), 1u);
  EXPECT_EQ(UpstreamQueries(), 1u);
  now_ += absl::Seconds(299);
  Ask("a.example");
  EXPECT_EQ(UpstreamQueries(), 1u);
  now_ += absl::Seconds(1);
  Ask("a.example");
  EXPECT_EQ(UpstreamQueries(), 2u);
  const CacheStats stats = cache_.Stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 2u);
}

TEST_F(CachingResolverTest, TypesAreCachedSeparately) {
  upstream_.Set("a.example", RrType::kA, Answer(LookupStatus::kOk, DnssecState::kSecure, 300));
  upstream_.Set("a.example", RrType::kAaaa,
                Answer(LookupStatus::kNoData, DnssecState::kSecure, 300));
  EXPECT_EQ(Ask("a.example", RrType::kA).status, LookupStatus::kOk);
  EXPECT_EQ(Ask("a.example", RrType::kAaaa).status, LookupStatus::kNoData);
  EXPECT_EQ(UpstreamQueries(), 2u);
}

TEST_F(CachingResolverTest, Lifetimes) {
  struct Row {
    std::string name;
    DnsAnswer answer;
    absl::Duration want;
  };
  DnsAnswer expiring = Answer(LookupStatus::kOk, DnssecState::kSecure, 3600);
  expiring.valid_until = now_ + absl::Seconds(90);
  DnsAnswer expired = Answer(LookupStatus::kOk, DnssecState::kSecure, 3600);
  expired.valid_until = now_ - absl::Seconds(1);
  const Row rows[] = {
      {"positive: its TTL", Answer(LookupStatus::kOk, DnssecState::kSecure, 300),
       absl::Seconds(300)},
      {"positive: capped", Answer(LookupStatus::kOk, DnssecState::kSecure, 86400), absl::Hours(1)},
      {"never past the RRSIG expiry", expiring, absl::Seconds(90)},
      {"signatures already expired: not cached", expired, absl::ZeroDuration()},
      {"denial: SOA-derived TTL", Answer(LookupStatus::kNoData, DnssecState::kSecure, 30),
       absl::Seconds(30)},
      {"denial: capped", Answer(LookupStatus::kNxDomain, DnssecState::kSecure, 3600),
       absl::Seconds(60)},
      {"failure: short", Answer(LookupStatus::kFailure, DnssecState::kIndeterminate, 0),
       absl::Seconds(2)},
      {"bogus: short", Answer(LookupStatus::kOk, DnssecState::kBogus, 3600), absl::Seconds(2)},
      {"insecure: its TTL", Answer(LookupStatus::kOk, DnssecState::kInsecure, 120),
       absl::Seconds(120)},
      {"TTL 0: not cached", Answer(LookupStatus::kOk, DnssecState::kSecure, 0),
       absl::ZeroDuration()},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(cache_.Lifetime(row.answer, now_), row.want) << row.name;
  }
}

TEST_F(CachingResolverTest, FailuresAreRetriedAfterTheFailureTtl) {
  // "b.example" is not scripted: the fake fails it.
  EXPECT_EQ(Ask("b.example").status, LookupStatus::kFailure);
  EXPECT_EQ(Ask("b.example").status, LookupStatus::kFailure);
  EXPECT_EQ(UpstreamQueries(), 1u);
  now_ += absl::Seconds(2);
  upstream_.Set("b.example", RrType::kA, Answer(LookupStatus::kOk, DnssecState::kSecure, 300));
  EXPECT_EQ(Ask("b.example").status, LookupStatus::kOk);
  EXPECT_EQ(UpstreamQueries(), 2u);
}

TEST_F(CachingResolverTest, CoalescesConcurrentLookups) {
  upstream_.set_deferred(true);
  upstream_.Set("a.example", RrType::kA, Answer(LookupStatus::kOk, DnssecState::kSecure, 300));
  constexpr int kCallers = 200;
  int answered = 0;
  for (int i = 0; i < kCallers; ++i) {
    cache_.Lookup("a.example", RrType::kA, [&](DnsAnswer a) {
      EXPECT_EQ(a.addresses.size(), 1u);
      ++answered;
    });
  }
  EXPECT_EQ(answered, 0);
  EXPECT_EQ(cache_.Stats().in_flight, 1u);
  upstream_.Flush();
  EXPECT_EQ(answered, kCallers);
  EXPECT_EQ(UpstreamQueries(), 1u);
  EXPECT_EQ(cache_.Stats().coalesced, kCallers - 1u);
  EXPECT_EQ(cache_.Stats().in_flight, 0u);
}

TEST_F(CachingResolverTest, EvictsTheLeastRecentlyUsed) {
  for (const char* name : {"1.example", "2.example", "3.example", "4.example"}) {
    upstream_.Set(name, RrType::kA, Answer(LookupStatus::kOk, DnssecState::kSecure, 300));
  }
  Ask("1.example");
  Ask("2.example");
  Ask("3.example");
  Ask("1.example");  // 2 is now the least recently used
  Ask("4.example");  // evicts 2
  EXPECT_EQ(cache_.Stats().evictions, 1u);
  EXPECT_EQ(cache_.Stats().entries, 3u);
  const size_t before = UpstreamQueries();
  Ask("1.example");
  Ask("3.example");
  EXPECT_EQ(UpstreamQueries(), before);
  Ask("2.example");
  EXPECT_EQ(UpstreamQueries(), before + 1);
}

TEST_F(CachingResolverTest, CallbackMayLookUpAgain) {
  // The engine asks for the next record from inside a callback.
  upstream_.Set("a.example", RrType::kA, Answer(LookupStatus::kOk, DnssecState::kSecure, 300));
  upstream_.Set("a.example", RrType::kTlsa,
                Answer(LookupStatus::kNoData, DnssecState::kSecure, 300));
  bool second = false;
  cache_.Lookup("a.example", RrType::kA, [&](DnsAnswer) {
    cache_.Lookup("a.example", RrType::kTlsa, [&](DnsAnswer) { second = true; });
  });
  EXPECT_TRUE(second);
}

}  // namespace
}  // namespace danegate::dns
