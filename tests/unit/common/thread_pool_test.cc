#include "service/common/thread_pool.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::common {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskOnItsWorkersAndDrainsBeforeJoining) {
  std::atomic<int> ran{0};
  std::atomic<int> on_caller{0};
  const std::thread::id caller = std::this_thread::get_id();
  {
    std::unique_ptr<ThreadPool> pool = ThreadPool::Create(2, "test-pool");
    for (int i = 0; i < 1000; ++i) {
      pool->Post([&] {
        if (std::this_thread::get_id() == caller) ++on_caller;
        ++ran;
      });
    }
  }  // the destructor runs what is queued
  EXPECT_EQ(ran.load(), 1000);
  EXPECT_EQ(on_caller.load(), 0);
}

TEST(ThreadPoolTest, TasksMayPostTasks) {
  absl::Notification done;
  std::unique_ptr<ThreadPool> pool = ThreadPool::Create(1, "test-pool");
  pool->Post([&] { pool->Post([&] { done.Notify(); }); });
  done.WaitForNotification();
}

TEST(ThreadRoleTest, IsPerThread) {
  EXPECT_EQ(CurrentThreadRole(), ThreadRole::kAny);
  ThreadRole seen = ThreadRole::kAny;
  std::thread dns([&] {
    SetThreadRole(ThreadRole::kDnsLoop);
    seen = CurrentThreadRole();
  });
  dns.join();
  EXPECT_EQ(seen, ThreadRole::kDnsLoop);
  EXPECT_EQ(CurrentThreadRole(), ThreadRole::kAny);
}

}  // namespace
}  // namespace danegate::common
