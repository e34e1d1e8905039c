// A dns::Resolver decorator shared by every request of a danegated process:
// caches validated answers for their TTL (never past their RRSIG expiry),
// denials and failures for short bounded times (RFC 2308), holds at most a
// fixed number of answers (LRU), and coalesces concurrent questions: N
// lookups of one uncached (name, type) make one upstream lookup.
#ifndef DANEGATE_SERVICE_DNS_CACHING_RESOLVER_H_
#define DANEGATE_SERVICE_DNS_CACHING_RESOLVER_H_

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/dns/resolver.h"

namespace danegate::dns {

struct CacheLimits {
  size_t max_entries = 100000;
  absl::Duration max_ttl = absl::Hours(6);             // positive answers
  absl::Duration max_negative_ttl = absl::Minutes(5);  // NODATA / NXDOMAIN
  absl::Duration failure_ttl = absl::Seconds(2);       // failed, bogus
};

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;     // lookups that went upstream
  uint64_t coalesced = 0;  // lookups that joined one already upstream
  uint64_t evictions = 0;
  size_t entries = 0;
  size_t in_flight = 0;
};

class CachingResolver : public Resolver {
 public:
  using Clock = std::function<absl::Time()>;

  // `upstream` must outlive this resolver and every pending lookup.
  CachingResolver(Resolver& upstream, CacheLimits limits, Clock now = absl::Now);

  // Answers from the cache, joins a lookup already in flight, or asks
  // upstream. `done` runs outside any lock, on the caller's thread for a hit
  // and on the upstream's callback thread otherwise.
  void Lookup(const std::string& name, RrType type, AnswerCallback done) override;

  CacheStats Stats() const;

  // Returns how long `answer` may be served from the cache at `now`.
  absl::Duration Lifetime(const DnsAnswer& answer, absl::Time now) const;

 private:
  using Key = std::pair<std::string, RrType>;
  struct Entry {
    DnsAnswer answer;
    absl::Time expires;
    std::list<Key>::iterator lru;  // position in lru_
  };

  void OnAnswer(const Key& key, DnsAnswer answer);

  Resolver& upstream_;
  const CacheLimits limits_;
  const Clock now_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<Key> lru_ ABSL_GUARDED_BY(mu_);  // front: most recently used
  absl::flat_hash_map<Key, std::vector<AnswerCallback>> in_flight_ ABSL_GUARDED_BY(mu_);
  CacheStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_CACHING_RESOLVER_H_
