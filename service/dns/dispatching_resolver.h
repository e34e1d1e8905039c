// A dns::Resolver decorator that hands every answer to an executor instead
// of calling back on the thread that produced it. Below it, the resolver's
// event thread does DNS only; above it, the engine's rules, OpenSSL
// verification, the response and the audit line run on the executor's
// threads (resolver.h: callbacks must not block the DNS thread).
#ifndef DANEGATE_SERVICE_DNS_DISPATCHING_RESOLVER_H_
#define DANEGATE_SERVICE_DNS_DISPATCHING_RESOLVER_H_

#include <string>
#include <utility>

#include "service/common/thread_pool.h"
#include "service/dns/resolver.h"

namespace danegate::dns {

class DispatchingResolver final : public Resolver {
 public:
  // `upstream` and `executor` must outlive this resolver and its lookups.
  DispatchingResolver(Resolver& upstream, common::Executor& executor)
      : upstream_(upstream), executor_(executor) {}

  void Lookup(const std::string& name, RrType type, AnswerCallback done) override {
    upstream_.Lookup(name, type, [this, done = std::move(done)](DnsAnswer answer) mutable {
      executor_.Post([done = std::move(done), answer = std::move(answer)]() mutable {
        std::move(done)(std::move(answer));
      });
    });
  }

 private:
  Resolver& upstream_;
  common::Executor& executor_;
};

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_DISPATCHING_RESOLVER_H_
