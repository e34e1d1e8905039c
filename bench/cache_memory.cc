// Resident memory of the shared DNS cache: fills a CachingResolver with N
// synthetic answers (half TLSA with one 3 1 1 record, half A with one
// address, names like the real thing) and prints the RSS growth and bytes per
// cached RRset as one JSON line.
//   danegate-cache-memory N
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/dns/caching_resolver.h"

namespace {

using namespace danegate::dns;

// Answers every lookup at once with a plausible record set.
class SyntheticResolver : public Resolver {
 public:
  void Lookup(const std::string& name, RrType type, AnswerCallback done) override {
    DnsAnswer a;
    a.qname = name;
    a.canonical_name = name;
    a.status = LookupStatus::kOk;
    a.dnssec = DnssecState::kSecure;
    a.ttl = 3600;
    if (type == RrType::kTlsa) {
      a.tlsa.push_back({3, 1, 1, std::string(32, '\x5a')});
    } else {
      a.addresses.push_back("192.0.2.1");
    }
    std::move(done)(std::move(a));
  }
};

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 0;
  if (argc != 2 || !absl::SimpleAtoi(argv[1], &n) || n == 0) {
    std::cerr << "usage: danegate-cache-memory N\n";
    return 64;
  }
  SyntheticResolver upstream;
  CachingResolver cache(upstream, CacheLimits{.max_entries = n});
  const size_t before = ResidentBytes();
  for (size_t i = 0; i < n; ++i) {
    const std::string host = absl::StrCat("mx", i, ".mail-provider-", i % 1000, ".example");
    const bool tlsa = i % 2 == 0;
    cache.Lookup(tlsa ? absl::StrCat("_25._tcp.", host) : host, tlsa ? RrType::kTlsa : RrType::kA,
                 [](DnsAnswer) {});
  }
  const size_t after = ResidentBytes();
  const CacheStats stats = cache.Stats();
  std::cout << "{\"entries\":" << stats.entries << ",\"rss_growth_bytes\":" << (after - before)
            << ",\"bytes_per_rrset\":" << (after - before) / stats.entries << "}" << std::endl;
  return 0;
}
