// danegate-loadgen: drives a danegated with a fixed number of calls in
// flight over a fixed number of connections (gRPC callback API), for a fixed
// time, and prints throughput and latency percentiles as one JSON line.
//
//   danegate-loadgen --target=127.0.0.1:50051 --rpc=policy --domains=a,b
//       --connections=4 --inflight=64 --duration=5s [--warmup=1s]
//       [--chain=FILE.pem --mx=HOST] [--rate=RPS]
//
// Closed loop by default (each slot re-issues as soon as its call ends).
// With --rate, open loop: calls start on a fixed schedule, RPS per second in
// all, on any free slot, and latency is measured from the scheduled start
// (a late start counts against the server: no coordinated omission).
//
// --rpc: health (grpc.health.v1 Check, the empty-RPC ceiling), policy
// (ResolvePolicy over --domains, round robin), verify (VerifyPeer of
// --chain against --mx for each of --domains).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "danegate/v1/validator.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "service/common/flags.h"
#include "service/tlsa/chain.h"

namespace {

namespace v1 = ::danegate::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "127.0.0.1:50051";
  std::string rpc = "health";
  std::vector<std::string> domains{"d-311.dane.test"};
  std::string mx;
  std::string chain;
  int connections = 4;
  int inflight = 64;
  absl::Duration duration = absl::Seconds(5);
  absl::Duration warmup = absl::Seconds(1);
  double rate = 0;  // 0: closed loop
};

// Shared by all call slots: the clock, the phase, the latencies.
class Run {
 public:
  explicit Run(const Options& o) : options_(o) {}

  void Start() {
    start_ = Clock::now();
    measure_from_ = start_ + absl::ToChronoNanoseconds(options_.warmup);
    end_ = measure_from_ + absl::ToChronoNanoseconds(options_.duration);
  }
  bool Done(Clock::time_point now) const { return now >= end_; }
  Clock::time_point start() const { return start_; }
  Clock::time_point end() const { return end_; }

  void Record(Clock::time_point began, Clock::time_point ended, bool ok) {
    if (began < measure_from_ || ended > end_) return;
    absl::MutexLock lock(&mu_);
    if (ok) {
      latencies_us_.push_back(std::chrono::duration<double, std::micro>(ended - began).count());
    } else {
      ++errors_;
    }
  }

  void SlotFinished() {
    if (--active_slots_ == 0) all_done_.Notify();
  }
  void AddSlot() { ++active_slots_; }
  void Wait() { all_done_.WaitForNotification(); }

  std::string Report() {
    absl::MutexLock lock(&mu_);
    std::vector<double>& l = latencies_us_;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) {
      return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<size_t>(p / 100 * l.size()))];
    };
    const double seconds = absl::ToDoubleSeconds(options_.duration);
    return absl::StrCat("{\"rpc\":\"", options_.rpc, "\",\"connections\":", options_.connections,
                        ",\"inflight\":", options_.inflight, ",\"calls\":", l.size(),
                        ",\"errors\":", errors_, ",\"rps\":", l.size() / seconds,
                        ",\"p50_us\":", pct(50), ",\"p90_us\":", pct(90), ",\"p99_us\":", pct(99),
                        ",\"p999_us\":", pct(99.9), "}");
  }

 private:
  const Options& options_;
  Clock::time_point start_, measure_from_, end_;
  absl::Mutex mu_;
  std::vector<double> latencies_us_ ABSL_GUARDED_BY(mu_);
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int> active_slots_{0};
  absl::Notification all_done_;
};

// One call in flight at a time, re-issued from its own completion callback.
class Slot {
 public:
  Slot(Run& run, const Options& o, std::shared_ptr<grpc::Channel> channel, size_t seed,
       const std::vector<std::string>& chain)
      : run_(run),
        options_(o),
        validator_(v1::Validator::NewStub(channel)),
        health_(grpc::health::v1::Health::NewStub(channel)),
        next_(seed),
        chain_(chain) {}

  // Open loop: called when the call ends instead of re-issuing.
  std::function<void(Slot*)> on_idle;

  void Issue(Clock::time_point scheduled = Clock::time_point()) {
    if (!on_idle && run_.Done(Clock::now())) {
      run_.SlotFinished();
      return;
    }
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    began_ = scheduled == Clock::time_point() ? Clock::now() : scheduled;
    const std::string& domain = options_.domains[next_++ % options_.domains.size()];
    auto done = [this](grpc::Status status) {
      run_.Record(began_, Clock::now(), status.ok());
      if (on_idle) {
        on_idle(this);
      } else {
        Issue();
      }
    };
    if (options_.rpc == "health") {
      health_->async()->Check(context_.get(), &health_request_, &health_response_, done);
    } else if (options_.rpc == "policy") {
      policy_request_.set_domain(domain);
      validator_->async()->ResolvePolicy(context_.get(), &policy_request_, &policy_response_, done);
    } else {
      verify_request_.set_domain(domain);
      verify_request_.set_mx_host(options_.mx);
      if (verify_request_.chain_size() == 0) {
        for (const std::string& der : chain_) verify_request_.add_chain(der);
      }
      validator_->async()->VerifyPeer(context_.get(), &verify_request_, &verify_response_, done);
    }
  }

 private:
  Run& run_;
  const Options& options_;
  std::unique_ptr<v1::Validator::Stub> validator_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  size_t next_;
  const std::vector<std::string>& chain_;
  std::unique_ptr<grpc::ClientContext> context_;
  Clock::time_point began_;
  grpc::health::v1::HealthCheckRequest health_request_;
  grpc::health::v1::HealthCheckResponse health_response_;
  v1::ResolvePolicyRequest policy_request_;
  v1::ResolvePolicyResponse policy_response_;
  v1::VerifyPeerRequest verify_request_;
  v1::VerifyPeerResponse verify_response_;
};

int Main(int argc, char** argv) {
  Options o;
  std::string domains = "d-311.dane.test", connections = "4", inflight = "64", duration = "5s",
              warmup = "1s", rate = "0";
  danegate::common::FlagSet flags;
  flags.String("target", &o.target, "HOST:PORT", "danegated to drive");
  flags.String("rpc", &o.rpc, "health|policy|verify", "what to call");
  flags.String("domains", &domains, "D1,D2,...", "domains, used round robin");
  flags.String("mx", &o.mx, "HOST", "verify: the MX host");
  flags.String("chain", &o.chain, "FILE.pem", "verify: the chain to send");
  flags.String("connections", &connections, "N", "channels (connections) to open");
  flags.String("inflight", &inflight, "N", "calls in flight in all");
  flags.String("duration", &duration, "DURATION", "measured time");
  flags.String("warmup", &warmup, "DURATION", "unmeasured time first");
  flags.String("rate", &rate, "RPS", "open loop at this rate (default: closed loop)");
  auto args = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!args.ok() || flags.help_requested()) {
    std::cerr << (args.ok() ? "" : std::string(args.status().message()) + "\n")
              << "usage: danegate-loadgen [options]\n"
              << flags.Help();
    return args.ok() ? 0 : 64;
  }
  o.domains = absl::StrSplit(domains, ',', absl::SkipEmpty());
  if (o.domains.empty() || !absl::SimpleAtoi(connections, &o.connections) ||
      !absl::SimpleAtoi(inflight, &o.inflight) || o.connections < 1 || o.inflight < 1 ||
      !absl::ParseDuration(duration, &o.duration) || !absl::ParseDuration(warmup, &o.warmup) ||
      !absl::SimpleAtod(rate, &o.rate) || o.rate < 0 ||
      (o.rpc != "health" && o.rpc != "policy" && o.rpc != "verify")) {
    std::cerr << "danegate-loadgen: bad option\n";
    return 64;
  }
  std::vector<std::string> chain;
  if (o.rpc == "verify") {
    auto read = danegate::tlsa::ReadPemChain(o.chain);
    if (!read.ok()) {
      std::cerr << "danegate-loadgen: " << read.status().message() << "\n";
      return 65;
    }
    chain = *std::move(read);
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection per channel
    channels.push_back(
        grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args));
  }
  Run run(o);
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < o.inflight; ++i) {
    slots.push_back(std::make_unique<Slot>(run, o, channels[i % channels.size()], i, chain));
    run.AddSlot();
  }
  run.Start();
  if (o.rate == 0) {
    for (auto& slot : slots) slot->Issue();
    run.Wait();
  } else {
    // Open loop: a pacer starts call k at start + k / rate on a free slot.
    // It sleeps until the next call is due and then starts every call that
    // is due, and it waits without spinning when every slot is busy (the
    // server is behind): a spinning or per-call-waking pacer would take the
    // CPU that the server and the completions need. A call's latency counts
    // from when it was due, so a late start is measured, not hidden.
    absl::Mutex mu;
    std::vector<Slot*> idle;
    int busy = 0;
    for (auto& slot : slots) {
      idle.push_back(slot.get());
      slot->on_idle = [&](Slot* s) {
        absl::MutexLock lock(&mu);
        idle.push_back(s);
        --busy;
      };
    }
    const auto period = std::chrono::duration<double>(1.0 / o.rate);
    auto due = [&](uint64_t k) {
      return run.start() + std::chrono::duration_cast<Clock::duration>(period * k);
    };
    const auto has_idle = [&idle] { return !idle.empty(); };
    for (uint64_t k = 0; due(k) < run.end();) {
      std::this_thread::sleep_until(due(k));
      for (const auto now = Clock::now(); due(k) <= now && due(k) < run.end(); ++k) {
        Slot* slot = nullptr;
        {
          absl::MutexLock lock(&mu, absl::Condition(&has_idle));
          slot = idle.back();
          idle.pop_back();
          ++busy;
        }
        slot->Issue(due(k));
      }
    }
    // Let the last calls finish before reporting.
    mu.LockWhen(absl::Condition(
        +[](int* b) { return *b == 0; }, &busy));
    mu.Unlock();
  }
  std::cout << run.Report() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
