#include "service/dns/caching_resolver.h"

#include <algorithm>
#include <optional>

namespace danegate::dns {

CachingResolver::CachingResolver(Resolver& upstream, CacheLimits limits, Clock now)
    : upstream_(upstream), limits_(limits), now_(std::move(now)) {}

absl::Duration CachingResolver::Lifetime(const DnsAnswer& answer, absl::Time now) const {
  // Failures and unvalidatable data are kept briefly, so a burst of mail
  // to a broken domain does not hammer the upstream (RFC 2308 §7, RFC 4035
  // §4.7), and a recovered upstream is seen soon.
  if (answer.status == LookupStatus::kFailure || answer.dnssec == DnssecState::kBogus ||
      answer.dnssec == DnssecState::kIndeterminate) {
    return limits_.failure_ttl;
  }
  const absl::Duration cap =
      answer.status == LookupStatus::kOk ? limits_.max_ttl : limits_.max_negative_ttl;
  absl::Duration lifetime = std::min(absl::Seconds(answer.ttl), cap);
  // Never past the signatures' expiry.
  lifetime = std::min(lifetime, answer.valid_until - now);
  return std::max(lifetime, absl::ZeroDuration());
}

void CachingResolver::Lookup(const std::string& name, RrType type, AnswerCallback done) {
  Key key{name, type};
  std::optional<DnsAnswer> hit;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = now_();
    if (auto it = entries_.find(key); it != entries_.end()) {
      if (it->second.expires > now) {
        ++stats_.hits;
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        hit = it->second.answer;
      } else {
        lru_.erase(it->second.lru);
        entries_.erase(it);
      }
    }
    if (!hit.has_value()) {
      auto [it, first] = in_flight_.try_emplace(key);
      it->second.push_back(std::move(done));
      if (!first) {
        ++stats_.coalesced;
        return;
      }
      ++stats_.misses;
    }
  }
  if (hit.has_value()) {
    std::move(done)(*std::move(hit));
    return;
  }
  upstream_.Lookup(name, type,
                   [this, key](DnsAnswer answer) mutable { OnAnswer(key, std::move(answer)); });
}

void CachingResolver::OnAnswer(const Key& key, DnsAnswer answer) {
  std::vector<AnswerCallback> waiters;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = now_();
    const absl::Duration lifetime = Lifetime(answer, now);
    if (lifetime > absl::ZeroDuration() && limits_.max_entries > 0) {
      while (entries_.size() >= limits_.max_entries && !lru_.empty()) {
        entries_.erase(lru_.back());
        lru_.pop_back();
        ++stats_.evictions;
      }
      lru_.push_front(key);
      entries_.insert_or_assign(key, Entry{answer, now + lifetime, lru_.begin()});
    }
    auto it = in_flight_.find(key);
    if (it != in_flight_.end()) {
      waiters = std::move(it->second);
      in_flight_.erase(it);
    }
  }
  for (size_t i = 0; i < waiters.size(); ++i) {
    if (i + 1 == waiters.size()) {
      std::move(waiters[i])(std::move(answer));
    } else {
      std::move(waiters[i])(answer);
    }
  }
}

CacheStats CachingResolver::Stats() const {
  absl::MutexLock lock(&mu_);
  CacheStats stats = stats_;
  stats.entries = entries_.size();
  stats.in_flight = in_flight_.size();
  return stats;
}

}  // namespace danegate::dns
