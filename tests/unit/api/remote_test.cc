// The client side of the API against an in-process gRPC server playing the
// validator: option checks, status codes carried through, the deadline on
// every call, and the channel watcher's reports. (danegate and the agent
// against the real danegated: tests/integration.)
#include "service/api/remote.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "danegate/v1/validator.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace danegate::api {
namespace {

using ::testing::HasSubstr;

// Answers ResolvePolicy with what the domain names: "ok.example" an answer,
// "invalid.example" INVALID_ARGUMENT, "slow.example" never (until the call
// is cancelled).
class FakeValidator final : public v1::Validator::CallbackService {
  grpc::ServerUnaryReactor* ResolvePolicy(grpc::CallbackServerContext* context,
                                          const v1::ResolvePolicyRequest* request,
                                          v1::ResolvePolicyResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (request->domain() == "invalid.example") {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "domain: not a name"));
    } else if (request->domain() == "slow.example") {
      absl::MutexLock lock(&mu_);
      pending_.push_back(reactor);  // finished by FinishPending
    } else {
      response->set_domain(request->domain());
      response->set_action(v1::ACTION_DELIVER);
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

 public:
  void FinishPending() {
    absl::MutexLock lock(&mu_);
    for (grpc::ServerUnaryReactor* r : pending_) r->Finish(grpc::Status::CANCELLED);
    pending_.clear();
  }

 private:
  absl::Mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> pending_ ABSL_GUARDED_BY(mu_);
};

class RemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    service_.FinishPending();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  std::shared_ptr<grpc::Channel> Channel() {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        ConnectValidator({.server = absl::StrCat("127.0.0.1:", port_)});
    EXPECT_TRUE(channel.ok()) << channel.status();
    return *channel;
  }

  static v1::ResolvePolicyRequest Ask(const std::string& domain) {
    v1::ResolvePolicyRequest request;
    request.set_domain(domain);
    return request;
  }

  FakeValidator service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(RemoteTest, AnswersAndErrorsKeepTheirCodeAndMessage) {
  std::shared_ptr<grpc::Channel> channel = Channel();
  absl::StatusOr<v1::ResolvePolicyResponse> ok =
      RemoteResolvePolicy(channel, absl::Seconds(10), Ask("ok.example"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->action(), v1::ACTION_DELIVER);
  absl::StatusOr<v1::ResolvePolicyResponse> invalid =
      RemoteResolvePolicy(channel, absl::Seconds(10), Ask("invalid.example"));
  EXPECT_TRUE(absl::IsInvalidArgument(invalid.status())) << invalid.status();
  EXPECT_EQ(invalid.status().message(), "domain: not a name");
}

TEST_F(RemoteTest, EveryCallHasTheDeadline) {
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::ResolvePolicyResponse> slow =
      RemoteResolvePolicy(Channel(), absl::Milliseconds(300), Ask("slow.example"));
  EXPECT_TRUE(absl::IsDeadlineExceeded(slow.status())) << slow.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
}

TEST_F(RemoteTest, NobodyListeningIsUnavailable) {
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  absl::StatusOr<v1::ResolvePolicyResponse> got =
      RemoteResolvePolicy(Channel(), absl::Seconds(5), Ask("ok.example"));
  EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
}

TEST(ConnectValidatorTest, RefusesTlsOptionsThatDoNotGoTogether) {
  struct Row {
    RemoteOptions options;
    std::string want;
  };
  const Row rows[] = {
      {{.server = "x:1", .cert_file = "/etc/hostname"}, "--tls-cert needs --tls-ca"},
      {{.server = "x:1", .ca_file = "/etc/hostname", .cert_file = "/etc/hostname"},
       "--tls-cert and --tls-key go together"},
      {{.server = "x:1", .ca_file = "/nonexistent/ca.pem"}, "--tls-ca"},
  };
  for (const Row& row : rows) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> got = ConnectValidator(row.options);
    EXPECT_TRUE(absl::IsInvalidArgument(got.status())) << row.want;
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(row.want));
  }
}

TEST_F(RemoteTest, TheWatcherReportsTheChannelReady) {
  absl::Mutex mu;
  std::vector<grpc_connectivity_state> seen;
  std::unique_ptr<ChannelWatcher> watcher =
      ChannelWatcher::Start(Channel(), [&](grpc_connectivity_state state) {
        absl::MutexLock lock(&mu);
        seen.push_back(state);
      });
  // Nothing calls on the channel: the watcher alone makes it connect.
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                      +[](std::vector<grpc_connectivity_state>* s) {
                                        return !s->empty() && s->back() == GRPC_CHANNEL_READY;
                                      },
                                      &seen),
                                  absl::Seconds(20)));
}

}  // namespace
}  // namespace danegate::api
