// A dns::Resolver decorator that measures every upstream lookup (latency by
// type and outcome, DNSSEC status, errors) into Metrics. It sits below the
// cache, so it sees exactly the queries that leave danegated.
#ifndef DANEGATE_SERVICE_SERVER_INSTRUMENTED_RESOLVER_H_
#define DANEGATE_SERVICE_SERVER_INSTRUMENTED_RESOLVER_H_

#include "absl/time/clock.h"
#include "service/dns/resolver.h"
#include "service/server/metrics.h"

namespace danegate::server {

class InstrumentedResolver : public dns::Resolver {
 public:
  // `upstream` and `metrics` must outlive this resolver.
  InstrumentedResolver(dns::Resolver& upstream, Metrics& metrics)
      : upstream_(upstream), metrics_(metrics) {}

  void Lookup(const std::string& name, dns::RrType type, dns::AnswerCallback done) override {
    const absl::Time start = absl::Now();
    upstream_.Lookup(name, type,
                     [this, type, start, done = std::move(done)](dns::DnsAnswer answer) mutable {
                       metrics_.RecordDnsQuery(type, answer, absl::Now() - start);
                       std::move(done)(std::move(answer));
                     });
  }

 private:
  dns::Resolver& upstream_;
  Metrics& metrics_;
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_INSTRUMENTED_RESOLVER_H_
