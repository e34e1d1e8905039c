// Answers delivered on the resolver's event thread reach the caller on the
// executor's threads, never on that one.
#include "service/dns/dispatching_resolver.h"

#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace danegate::dns {
namespace {

// Answers every lookup on a thread of its own that says it is the DNS loop.
class LoopResolver : public Resolver {
 public:
  ~LoopResolver() override {
    for (std::thread& t : threads_) t.join();
  }
  void Lookup(const std::string& name, RrType, AnswerCallback done) override {
    threads_.emplace_back([name, done = std::move(done)]() mutable {
      common::SetThreadRole(common::ThreadRole::kDnsLoop);
      DnsAnswer answer;
      answer.qname = name;
      answer.status = LookupStatus::kNoData;
      std::move(done)(std::move(answer));
    });
  }

 private:
  std::vector<std::thread> threads_;
};

TEST(DispatchingResolverTest, AnswersRunOnTheExecutorNotTheDnsLoop) {
  LoopResolver loop;
  std::unique_ptr<common::ThreadPool> pool = common::ThreadPool::Create(1, "test-work");
  DispatchingResolver dispatching(loop, *pool);
  for (int i = 0; i < 20; ++i) {
    absl::Notification done;
    common::ThreadRole role = common::ThreadRole::kDnsLoop;
    std::string qname;
    dispatching.Lookup("mx.example.com", RrType::kA, [&](DnsAnswer answer) {
      role = common::CurrentThreadRole();
      qname = answer.qname;
      done.Notify();
    });
    done.WaitForNotification();
    EXPECT_EQ(role, common::ThreadRole::kAny);
    EXPECT_EQ(qname, "mx.example.com");
  }
  // Without the dispatcher the same answers arrive on the loop: the check
  // above can fail.
  absl::Notification done;
  common::ThreadRole role = common::ThreadRole::kAny;
  loop.Lookup("mx.example.com", RrType::kA, [&](DnsAnswer) {
    role = common::CurrentThreadRole();
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_EQ(role, common::ThreadRole::kDnsLoop);
}

}  // namespace
}  // namespace danegate::dns
