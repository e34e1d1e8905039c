#include "service/dns/getdns_resolver.h"

#include <arpa/inet.h>
#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <limits>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/common/thread_pool.h"
#include "service/dns/getdns_message.h"

namespace danegate::dns {
namespace {

struct ContextDeleter {
  void operator()(getdns_context* c) const { getdns_context_destroy(c); }
};
struct DictDeleter {
  void operator()(getdns_dict* d) const { getdns_dict_destroy(d); }
};
using ContextPtr = std::unique_ptr<getdns_context, ContextDeleter>;
using DictPtr = std::unique_ptr<getdns_dict, DictDeleter>;
using ListPtr = GetdnsListPtr;  // getdns_message.h

absl::Status GetdnsError(absl::string_view what, getdns_return_t rc) {
  return absl::InternalError(absl::StrCat(what, ": ", getdns_get_errorstr_by_id(rc)));
}

absl::StatusOr<ListPtr> UpstreamList(const std::vector<Upstream>& upstreams) {
  ListPtr list(getdns_list_create());
  for (size_t i = 0; i < upstreams.size(); ++i) {
    const Upstream& u = upstreams[i];
    unsigned char addr[16];
    const int family = u.ipv6 ? AF_INET6 : AF_INET;
    if (inet_pton(family, u.address.c_str(), addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("--upstream ", u.ToString(), ": bad address"));
    }
    getdns_bindata type{
        4, const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(u.ipv6 ? "IPv6" : "IPv4"))};
    getdns_bindata data{u.ipv6 ? 16u : 4u, addr};
    DictPtr dict(getdns_dict_create());
    getdns_dict_set_bindata(dict.get(), "address_type", &type);
    getdns_dict_set_bindata(dict.get(), "address_data", &data);
    getdns_dict_set_int(dict.get(), "port", u.port);
    getdns_list_set_dict(list.get(), i, dict.get());
  }
  return list;
}

DnssecState StateFromGetdns(uint32_t status) {
  switch (status) {
    case GETDNS_DNSSEC_SECURE: return DnssecState::kSecure;
    case GETDNS_DNSSEC_INSECURE: return DnssecState::kInsecure;
    case GETDNS_DNSSEC_BOGUS: return DnssecState::kBogus;
    default: return DnssecState::kIndeterminate;
  }
}

// Translates a getdns response into a DnsAnswer.
DnsAnswer AnswerFromResponse(const std::string& qname, RrType type,
                             getdns_callback_type_t callback_type, getdns_dict* response) {
  DnsAnswer answer;
  answer.qname = qname;
  answer.canonical_name = qname;
  if (callback_type == GETDNS_CALLBACK_TIMEOUT) {
    answer.error = "timeout";
    return answer;
  }
  if (callback_type != GETDNS_CALLBACK_COMPLETE || response == nullptr) {
    answer.error = callback_type == GETDNS_CALLBACK_CANCEL ? "cancelled" : "resolver error";
    return answer;
  }
  uint32_t status = 0;
  getdns_dict_get_int(response, "status", &status);
  if (status == GETDNS_RESPSTATUS_ALL_TIMEOUT) {
    answer.error = "timeout";
    return answer;
  }
  getdns_list* replies = nullptr;
  size_t reply_count = 0;
  getdns_dict* reply = nullptr;
  if (getdns_dict_get_list(response, "replies_tree", &replies) != GETDNS_RETURN_GOOD ||
      getdns_list_get_length(replies, &reply_count) != GETDNS_RETURN_GOOD || reply_count == 0 ||
      getdns_list_get_dict(replies, 0, &reply) != GETDNS_RETURN_GOOD) {
    answer.error =
        absl::StrCat("no reply (", getdns_get_errorstr_by_id(static_cast<uint16_t>(status)), ")");
    return answer;
  }
  uint32_t dnssec_status = GETDNS_DNSSEC_INDETERMINATE;
  getdns_dict_get_int(reply, "dnssec_status", &dnssec_status);
  return AnswerFromReply(qname, type, StateFromGetdns(dnssec_status), reply);
}

}  // namespace

// The getdns context, its thread and the queue of lookups handed to it.
class GetdnsResolver::Loop {
 public:
  struct Request {
    std::string name;
    RrType type;
    AnswerCallback done;
  };

  Loop(ContextPtr context, int wake_fd) : context_(std::move(context)), wake_fd_(wake_fd) {
    // Validate every answer ourselves; keep bogus answers (with their
    // status) rather than have them dropped, as dnssec_return_status does.
    getdns_dict_set_int(extensions_.get(), "dnssec_return_all_statuses", GETDNS_EXTENSION_TRUE);
  }

  ~Loop() {
    Stop();
    if (thread_.joinable()) thread_.join();
    close(wake_fd_);
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
  }

  absl::Status Start() {
    getdns_eventloop* loop = nullptr;
    if (getdns_return_t rc = getdns_context_get_eventloop(context_.get(), &loop);
        rc != GETDNS_RETURN_GOOD) {
      return GetdnsError("getdns_context_get_eventloop", rc);
    }
    loop_ = loop;
    wake_event_ = getdns_eventloop_event{this, &Loop::OnWake, nullptr, nullptr, nullptr};
    if (getdns_return_t rc = loop_->vmt->schedule(
            loop_, wake_fd_, std::numeric_limits<uint64_t>::max(), &wake_event_);
        rc != GETDNS_RETURN_GOOD) {
      return GetdnsError("scheduling the wake-up event", rc);
    }
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  void Submit(Request request) {
    bool accepted = false;
    {
      absl::MutexLock lock(&mu_);
      if (!stopping_) {
        queue_.push_back(std::move(request));
        accepted = true;
      }
    }
    if (accepted) {
      Wake();
    } else {
      Fail(std::move(request), "resolver stopped");
    }
  }

 private:
  struct InFlight {
    std::string name;
    RrType type;
    AnswerCallback done;
  };

  static void Fail(Request request, std::string why) {
    DnsAnswer answer;
    answer.qname = request.name;
    answer.canonical_name = request.name;
    answer.error = std::move(why);
    std::move(request.done)(std::move(answer));
  }

  void Wake() {
    const uint64_t one = 1;
    while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  static void OnWake(void* self) { static_cast<Loop*>(self)->Drain(); }

  // Runs on the loop thread: starts every queued lookup.
  void Drain() {
    uint64_t count = 0;
    while (read(wake_fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
    std::deque<Request> batch;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(queue_);
    }
    for (Request& request : batch) {
      auto* in_flight = new InFlight{request.name, request.type, std::move(request.done)};
      getdns_transaction_t id = 0;
      getdns_return_t rc = getdns_general(context_.get(), in_flight->name.c_str(),
                                          static_cast<uint16_t>(in_flight->type), extensions_.get(),
                                          in_flight, &id, &Loop::OnResponse);
      if (rc != GETDNS_RETURN_GOOD) {
        Fail({in_flight->name, in_flight->type, std::move(in_flight->done)},
             absl::StrCat("getdns: ", getdns_get_errorstr_by_id(rc)));
        delete in_flight;
      }
    }
  }

  static void OnResponse(getdns_context*, getdns_callback_type_t callback_type,
                         getdns_dict* response, void* userarg, getdns_transaction_t) {
    std::unique_ptr<InFlight> in_flight(static_cast<InFlight*>(userarg));
    DictPtr owned(response);
    DnsAnswer answer =
        AnswerFromResponse(in_flight->name, in_flight->type, callback_type, response);
    std::move(in_flight->done)(std::move(answer));
  }

  void Run() {
    common::SetThreadRole(common::ThreadRole::kDnsLoop);
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) break;
      }
      loop_->vmt->run_once(loop_, 1);
    }
    loop_->vmt->clear(loop_, &wake_event_);
    // Cancels what is still in flight: each callback fires with CANCEL.
    context_.reset();
    std::deque<Request> rest;
    {
      absl::MutexLock lock(&mu_);
      rest.swap(queue_);
    }
    for (Request& request : rest) Fail(std::move(request), "resolver stopped");
  }

  ContextPtr context_;
  DictPtr extensions_{getdns_dict_create()};
  const int wake_fd_;
  getdns_eventloop* loop_ = nullptr;
  getdns_eventloop_event wake_event_{};
  std::thread thread_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<GetdnsResolver>> GetdnsResolver::Create(
    const ResolverConfig& config) {
  if (absl::Status s = CheckResolverConfig(config); !s.ok()) return s;
  absl::StatusOr<TrustAnchors> anchors = ReadTrustAnchors(config.trust_anchor_file);
  if (!anchors.ok()) return anchors.status();

  getdns_context* raw = nullptr;
  // set_from_os = 0: never read resolv.conf; upstreams come from flags.
  if (getdns_return_t rc = getdns_context_create(&raw, 0); rc != GETDNS_RETURN_GOOD) {
    return GetdnsError("getdns_context_create", rc);
  }
  ContextPtr context(raw);
  const bool stub = config.mode == ResolverConfig::Mode::kStub;
  if (getdns_return_t rc = getdns_context_set_resolution_type(
          context.get(), stub ? GETDNS_RESOLUTION_STUB : GETDNS_RESOLUTION_RECURSING);
      rc != GETDNS_RETURN_GOOD) {
    return GetdnsError("getdns_context_set_resolution_type", rc);
  }
  if (stub) {
    absl::StatusOr<ListPtr> upstreams = UpstreamList(config.upstreams);
    if (!upstreams.ok()) return upstreams.status();
    if (getdns_return_t rc =
            getdns_context_set_upstream_recursive_servers(context.get(), upstreams->get());
        rc != GETDNS_RETURN_GOOD) {
      return GetdnsError("getdns_context_set_upstream_recursive_servers", rc);
    }
  }
  if (getdns_return_t rc =
          getdns_context_set_dnssec_trust_anchors(context.get(), anchors->records.get());
      rc != GETDNS_RETURN_GOOD) {
    return GetdnsError("getdns_context_set_dnssec_trust_anchors", rc);
  }
  if (getdns_return_t rc = getdns_context_set_timeout(
          context.get(), static_cast<uint64_t>(absl::ToInt64Milliseconds(config.timeout)));
      rc != GETDNS_RETURN_GOOD) {
    return GetdnsError("getdns_context_set_timeout", rc);
  }

  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return absl::InternalError("eventfd failed");
  auto loop = std::make_unique<Loop>(std::move(context), wake_fd);
  if (absl::Status s = loop->Start(); !s.ok()) return s;
  return std::unique_ptr<GetdnsResolver>(
      new GetdnsResolver(std::move(loop), std::move(anchors->first_owner)));
}

GetdnsResolver::GetdnsResolver(std::unique_ptr<Loop> loop, std::string trust_anchor_owner)
    : loop_(std::move(loop)), trust_anchor_owner_(std::move(trust_anchor_owner)) {}
GetdnsResolver::~GetdnsResolver() = default;

void GetdnsResolver::Stop() { loop_->Stop(); }

void GetdnsResolver::Lookup(const std::string& name, RrType type, AnswerCallback done) {
  loop_->Submit({name, type, std::move(done)});
}

}  // namespace danegate::dns
