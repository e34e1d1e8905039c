// A fixed set of worker threads running posted tasks in order of posting:
// where danegated runs the engine's continuations, so the resolver's event
// thread only does DNS. Made by Create (no thread starts in a constructor);
// the destructor runs what is queued, then joins.
#ifndef DANEGATE_SERVICE_COMMON_THREAD_POOL_H_
#define DANEGATE_SERVICE_COMMON_THREAD_POOL_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace danegate::common {

// What runs tasks: the pool, or (in tests and the CLI) the caller itself.
class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `task` soon, on another thread or this one; never blocks on it.
  virtual void Post(absl::AnyInvocable<void() &&> task) = 0;
};

class ThreadPool final : public Executor {
 public:
  // Starts `threads` (at least 1) workers named `name` (as ps shows them).
  static std::unique_ptr<ThreadPool> Create(int threads, const std::string& name);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Post(absl::AnyInvocable<void() &&> task) override;

  // Tasks posted and not yet started.
  size_t queued() const;

 private:
  ThreadPool() = default;
  void Work();

  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// What a thread is for, so code that must never run on a given thread can
// say so: the resolver's event loop marks itself kDnsLoop.
enum class ThreadRole { kAny, kDnsLoop };
void SetThreadRole(ThreadRole role);
ThreadRole CurrentThreadRole();

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_THREAD_POOL_H_
