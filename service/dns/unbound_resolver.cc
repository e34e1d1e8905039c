#include "service/dns/unbound_resolver.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "service/common/thread_pool.h"
#include "service/dns/getdns_message.h"

namespace danegate::dns {
namespace {

struct ContextDeleter {
  void operator()(ub_ctx* ctx) const { ub_ctx_delete(ctx); }
};
using ContextPtr = std::unique_ptr<ub_ctx, ContextDeleter>;

struct ResultDeleter {
  void operator()(ub_result* result) const { ub_resolve_free(result); }
};
using ResultPtr = std::unique_ptr<ub_result, ResultDeleter>;

absl::Status UnboundError(absl::string_view what, int rc) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", ub_strerror(rc)));
}

DnsAnswer Failed(const std::string& name, std::string why) {
  DnsAnswer answer;
  answer.qname = name;
  answer.canonical_name = name;
  answer.error = std::move(why);
  return answer;
}

// Translates a libunbound result: the message is read like getdns's, with
// libunbound's own verdict as the DNSSEC state.
DnsAnswer AnswerFromResult(const std::string& name, RrType type, int err, ub_result* result) {
  if (err != 0 || result == nullptr)
    return Failed(name, absl::StrCat("unbound: ", ub_strerror(err)));
  const DnssecState dnssec = result->secure  ? DnssecState::kSecure
                             : result->bogus ? DnssecState::kBogus
                                             : DnssecState::kInsecure;
  if (result->answer_packet == nullptr || result->answer_len <= 0) {
    DnsAnswer answer = Failed(name, "no answer");
    if (dnssec == DnssecState::kBogus) {
      // Validation failed: what matters is that, not the missing data.
      answer.status = LookupStatus::kNoData;
      answer.dnssec = dnssec;
      answer.error = result->why_bogus != nullptr ? result->why_bogus : "bogus";
    }
    return answer;
  }
  DnsAnswer answer =
      AnswerFromWire(name, type, dnssec, static_cast<const unsigned char*>(result->answer_packet),
                     static_cast<size_t>(result->answer_len));
  if (dnssec == DnssecState::kBogus) {
    // libunbound answers SERVFAIL for data that failed validation: that is
    // bogus data, not a lookup failure.
    if (answer.status == LookupStatus::kFailure) answer.status = LookupStatus::kNoData;
    answer.error = result->why_bogus != nullptr ? result->why_bogus : "bogus";
  }
  return answer;
}

}  // namespace

// The libunbound context and the thread that feeds it lookups, processes its
// results and cancels what passes its deadline. Only that thread calls
// libunbound (after Create).
class UnboundResolver::Loop {
 public:
  Loop(ContextPtr context, int wake_fd, absl::Duration timeout)
      : context_(std::move(context)), wake_fd_(wake_fd), timeout_(timeout) {}

  ~Loop() {
    Stop();
    if (thread_.joinable()) thread_.join();
    close(wake_fd_);
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
  }

  void Submit(std::string name, RrType type, AnswerCallback done) {
    {
      absl::MutexLock lock(&mu_);
      if (!stopping_) {
        queue_.push_back(
            Pending{std::move(name), type, std::move(done), absl::Now() + timeout_, 0, this});
        Wake();
        return;
      }
    }
    std::move(done)(Failed(name, "resolver stopped"));
  }

 private:
  struct Pending {
    std::string name;
    RrType type;
    AnswerCallback done;
    absl::Time deadline;
    int id;
    Loop* loop;
  };

  void Wake() {
    const uint64_t one = 1;
    while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  // libunbound's callback, from ub_process on the loop thread.
  static void OnResult(void* data, int err, ub_result* raw) {
    ResultPtr result(raw);
    std::unique_ptr<Pending> pending(static_cast<Pending*>(data));
    pending->loop->in_flight_.erase(pending->id);
    std::move(pending->done)(AnswerFromResult(pending->name, pending->type, err, result.get()));
  }

  // Starts the queued lookups.
  void StartQueued() {
    uint64_t count = 0;
    while (read(wake_fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
    std::deque<Pending> batch;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(queue_);
    }
    for (Pending& request : batch) {
      auto pending = std::make_unique<Pending>(std::move(request));
      int id = 0;
      const int rc =
          ub_resolve_async(context_.get(), pending->name.c_str(), static_cast<int>(pending->type),
                           1 /* IN */, pending.get(), &Loop::OnResult, &id);
      if (rc != 0) {
        std::move(pending->done)(Failed(pending->name, absl::StrCat("unbound: ", ub_strerror(rc))));
        continue;
      }
      pending->id = id;
      in_flight_[id] = pending.release();
    }
  }

  // Fails (and cancels in libunbound) every lookup past its deadline.
  void ExpireOverdue() {
    const absl::Time now = absl::Now();
    std::vector<Pending*> overdue;
    for (const auto& [id, pending] : in_flight_) {
      if (pending->deadline <= now) overdue.push_back(pending);
    }
    for (Pending* raw : overdue) {
      std::unique_ptr<Pending> pending(raw);
      in_flight_.erase(pending->id);
      ub_cancel(context_.get(), pending->id);
      std::move(pending->done)(Failed(pending->name, "timeout"));
    }
  }

  int MillisToNextDeadline() const {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [id, pending] : in_flight_) next = std::min(next, pending->deadline);
    if (next == absl::InfiniteFuture()) return -1;
    const int64_t ms = absl::ToInt64Milliseconds(next - absl::Now()) + 1;
    return static_cast<int>(std::clamp<int64_t>(ms, 0, INT_MAX));
  }

  void Run() {
    common::SetThreadRole(common::ThreadRole::kDnsLoop);
    const int unbound_fd = ub_fd(context_.get());
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) break;
      }
      pollfd fds[2] = {{unbound_fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int ready = poll(fds, 2, MillisToNextDeadline());
      if (ready < 0 && errno != EINTR) break;
      if (ready > 0 && fds[0].revents != 0) ub_process(context_.get());
      if (ready > 0 && fds[1].revents != 0) StartQueued();
      ExpireOverdue();
    }
    for (auto& [id, raw] : in_flight_) {
      std::unique_ptr<Pending> pending(raw);
      ub_cancel(context_.get(), id);
      std::move(pending->done)(Failed(pending->name, "resolver stopped"));
    }
    in_flight_.clear();
    context_.reset();
    std::deque<Pending> rest;
    {
      absl::MutexLock lock(&mu_);
      rest.swap(queue_);
    }
    for (Pending& request : rest) std::move(request.done)(Failed(request.name, "resolver stopped"));
  }

  ContextPtr context_;
  const int wake_fd_;
  const absl::Duration timeout_;
  std::thread thread_;
  // Loop thread only: the lookups libunbound is working on, by its id.
  absl::flat_hash_map<int, Pending*> in_flight_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<UnboundResolver>> UnboundResolver::Create(
    const ResolverConfig& config) {
  if (absl::Status s = CheckResolverConfig(config); !s.ok()) return s;
  // The same checks as for getdns: a readable file with DS/DNSKEY records.
  absl::StatusOr<TrustAnchors> anchors = ReadTrustAnchors(config.trust_anchor_file);
  if (!anchors.ok()) return anchors.status();

  ContextPtr context(ub_ctx_create());
  if (context == nullptr) return absl::InternalError("ub_ctx_create failed");
  // A thread inside this process (not a forked one) does libunbound's work.
  if (int rc = ub_ctx_async(context.get(), 1); rc != 0) return UnboundError("ub_ctx_async", rc);
  // Never /etc/hosts or resolv.conf: only what the flags say.
  for (const auto& [option, value] : std::vector<std::pair<const char*, const char*>>{
           {"verbosity:", "0"},
           {"use-syslog:", "no"},
           {"msg-cache-size:", "4m"},
           {"rrset-cache-size:", "8m"},
           {"key-cache-size:", "4m"},
           // The validator's findings, in full, for bogus answers.
           {"val-log-level:", "0"},
           {"harden-dnssec-stripped:", "yes"},
           // After an upstream outage, answer again as soon as it is back:
           // keep probing servers marked down, forget them soon, and keep
           // what failed validation (e.g. a DNSKEY that could not be
           // fetched) for seconds, not a minute.
           {"infra-keep-probing:", "yes"},
           {"infra-host-ttl:", "30"},
           {"val-bogus-ttl:", "2"},
           // libunbound answers these special-use names itself (RFC 6761,
           // 7686, 8375) with NXDOMAIN; getdns and the upstream do not, and
           // test domains (a lab, a staging fleet) live there: resolve them.
           // ("nodefault" does not take effect through ub_ctx_set_option.)
           {"local-zone:", "test. transparent"},
           {"local-zone:", "invalid. transparent"},
           {"local-zone:", "home.arpa. transparent"},
           {"local-zone:", "onion. transparent"},
       }) {
    if (int rc = ub_ctx_set_option(context.get(), option, value); rc != 0) {
      return UnboundError(absl::StrCat("unbound option ", option), rc);
    }
  }
  if (config.mode == ResolverConfig::Mode::kStub) {
    // Through an upstream, danegated's own cache is the one that keeps
    // answers (for their TTL, as with getdns); libunbound keeps what it
    // fetched for seconds only, enough to share DNSKEY and DS answers within
    // a burst, so that an upstream outage reaches the health self-check
    // within seconds (the TTLs danegated sees stay the records' own).
    // Resolving from the root, libunbound keeps its delegations and keys.
    for (const char* option : {"cache-max-ttl:", "cache-max-negative-ttl:"}) {
      if (int rc = ub_ctx_set_option(context.get(), option, "5"); rc != 0) {
        return UnboundError(absl::StrCat("unbound option ", option), rc);
      }
    }
    for (const Upstream& u : config.upstreams) {
      const std::string address = absl::StrCat(u.address, "@", u.port);
      if (int rc = ub_ctx_set_fwd(context.get(), address.c_str()); rc != 0) {
        return UnboundError(absl::StrCat("--upstream ", u.ToString()), rc);
      }
    }
  }
  if (int rc = ub_ctx_add_ta_file(context.get(), config.trust_anchor_file.c_str()); rc != 0) {
    return UnboundError(absl::StrCat("--trust-anchor ", config.trust_anchor_file), rc);
  }
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return absl::InternalError("eventfd failed");
  auto loop = std::make_unique<Loop>(std::move(context), wake_fd, config.timeout);
  loop->Start();
  return std::unique_ptr<UnboundResolver>(
      new UnboundResolver(std::move(loop), std::move(anchors->first_owner)));
}

UnboundResolver::UnboundResolver(std::unique_ptr<Loop> loop, std::string trust_anchor_owner)
    : loop_(std::move(loop)), trust_anchor_owner_(std::move(trust_anchor_owner)) {}
UnboundResolver::~UnboundResolver() = default;

void UnboundResolver::Stop() { loop_->Stop(); }

void UnboundResolver::Lookup(const std::string& name, RrType type, AnswerCallback done) {
  loop_->Submit(name, type, std::move(done));
}

}  // namespace danegate::dns
