#include "service/common/thread_pool.h"

#include <pthread.h>

#include <algorithm>

namespace danegate::common {
namespace {

thread_local ThreadRole current_role = ThreadRole::kAny;

}  // namespace

void SetThreadRole(ThreadRole role) { current_role = role; }
ThreadRole CurrentThreadRole() { return current_role; }

std::unique_ptr<ThreadPool> ThreadPool::Create(int threads, const std::string& name) {
  std::unique_ptr<ThreadPool> pool(new ThreadPool());
  const std::string short_name = name.substr(0, 15);  // the kernel's limit
  for (int i = 0; i < std::max(threads, 1); ++i) {
    pool->threads_.emplace_back([p = pool.get()] { p->Work(); });
    pthread_setname_np(pool->threads_.back().native_handle(), short_name.c_str());
  }
  return pool;
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Post(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

size_t ThreadPool::queued() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

void ThreadPool::Work() {
  for (;;) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ThreadPool* p)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return p->stopping_ || !p->tasks_.empty(); },
          this));
      if (tasks_.empty()) return;  // stopping, and everything queued has run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace danegate::common
