// The gRPC service in-process: a real gRPC server and stub on loopback, the
// engine over a scripted resolver. What a client sees (answers, errors) and
// what the service counts; a call whose client gave up starts no lookup.
// (The real danegated with the DNSSEC lab: tests/integration/test_service.py.)
#include "service/server/validator_service.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"

namespace danegate::server {
namespace {

using dns::DnsAnswer;
using dns::RrType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

DnsAnswer Secure() {
  DnsAnswer a;
  a.status = dns::LookupStatus::kOk;
  a.dnssec = dns::DnssecState::kSecure;
  return a;
}

// Answers from a table, at once, on the calling thread; or, for the names
// in `held`, only when Release() is called. Thread-safe: the gRPC threads
// ask, the test thread releases.
class ScriptedResolver : public dns::Resolver {
 public:
  void Set(const std::string& name, RrType type, DnsAnswer answer) {
    absl::MutexLock lock(&mu_);
    answer.qname = answer.canonical_name = name;
    answers_[{name, type}] = std::move(answer);
  }
  void Hold(const std::string& name) {
    absl::MutexLock lock(&mu_);
    held_names_.push_back(name);
  }
  void Lookup(const std::string& name, RrType type, dns::AnswerCallback done) override {
    DnsAnswer answer;
    {
      absl::MutexLock lock(&mu_);
      asked_.push_back(absl::StrCat(dns::RrTypeName(type), " ", name));
      auto it = answers_.find({name, type});
      if (it != answers_.end()) answer = it->second;
      if (std::find(held_names_.begin(), held_names_.end(), name) != held_names_.end()) {
        held_.push_back({std::move(answer), std::move(done)});
        return;
      }
    }
    std::move(done)(std::move(answer));
  }
  // Waits until a held lookup is pending, then answers it on this thread.
  void ReleaseOne() {
    std::pair<DnsAnswer, dns::AnswerCallback> next;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](std::deque<std::pair<DnsAnswer, dns::AnswerCallback>>* h) { return !h->empty(); },
          &held_));
      next = std::move(held_.front());
      held_.pop_front();
    }
    std::move(next.second)(std::move(next.first));
  }
  std::vector<std::string> asked() {
    absl::MutexLock lock(&mu_);
    return asked_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, RrType>, DnsAnswer> answers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> held_names_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<DnsAnswer, dns::AnswerCallback>> held_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> asked_ ABSL_GUARDED_BY(mu_);
};

class ValidatorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsAnswer mx = Secure();
    mx.mx = {{10, "mx.example.com"}};
    resolver_.Set("example.com", RrType::kMx, mx);
    DnsAnswer a = Secure();
    a.addresses = {"192.0.2.1"};
    resolver_.Set("mx.example.com", RrType::kA, a);
    DnsAnswer aaaa = Secure();
    aaaa.status = dns::LookupStatus::kNoData;
    resolver_.Set("mx.example.com", RrType::kAaaa, aaaa);
    DnsAnswer tlsa = Secure();
    tlsa.tlsa = {cert_.Tlsa(3, 1, 1)};
    resolver_.Set("_25._tcp.mx.example.com", RrType::kTlsa, tlsa);

    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Validator::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  // The sample line `name` (with its labels), or "" when there is none.
  std::string Sample(const std::string& name) const {
    const std::string text =
        metrics_.Render({}, matcher_->CertificateCacheStats(), {}, audit_->dropped());
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, name + " ")) return std::string(line);
    }
    return "";
  }

  testing::TestCert cert_ = testing::Issue({"mx.example.com"});
  ScriptedResolver resolver_;
  std::unique_ptr<tlsa::DaneMatcher> matcher_ = *tlsa::DaneMatcher::Create();
  engine::DaneEngine engine_{resolver_, *matcher_};
  server::Metrics metrics_;
  std::unique_ptr<AuditLog> audit_ = *AuditLog::Open("");
  ValidatorService service_{engine_, *matcher_, metrics_, *audit_, 64 * 1024};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Validator::Stub> stub_;
};

TEST_F(ValidatorServiceTest, AnswersAndCountsTheDecision) {
  grpc::ClientContext context;
  v1::ResolvePolicyRequest request;
  request.set_domain("Example.COM.");
  v1::ResolvePolicyResponse response;
  ASSERT_TRUE(stub_->ResolvePolicy(&context, request, &response).ok());
  EXPECT_EQ(response.domain(), "example.com");
  EXPECT_EQ(response.action(), v1::ACTION_DELIVER);
  ASSERT_EQ(response.mx_size(), 1);
  EXPECT_EQ(response.mx(0).tls(), v1::TLS_MODE_DANE);
  EXPECT_THAT(response.mx(0).addresses(), ElementsAre("192.0.2.1"));
  EXPECT_EQ(Sample("danegate_decisions_total{rpc=\"ResolvePolicy\",action=\"deliver\","
                   "reason=\"dane_required\"}"),
            "danegate_decisions_total{rpc=\"ResolvePolicy\",action=\"deliver\","
            "reason=\"dane_required\"} 1");

  grpc::ClientContext verify_context;
  v1::VerifyPeerRequest verify;
  verify.set_domain("example.com");
  verify.set_mx_host("mx.example.com");
  verify.add_chain(cert_.der());
  v1::VerifyPeerResponse verdict;
  ASSERT_TRUE(stub_->VerifyPeer(&verify_context, verify, &verdict).ok());
  EXPECT_EQ(verdict.action(), v1::ACTION_DELIVER);
  EXPECT_TRUE(verdict.authenticated());
}

TEST_F(ValidatorServiceTest, BadRequestsAreInvalidArgumentWithTheReason) {
  struct Row {
    std::string domain;
    std::string want;
  };
  for (const Row& row : {Row{"", "domain"}, Row{"exa mple.com", "domain"},
                         Row{std::string(300, 'a') + ".com", "domain"}}) {
    grpc::ClientContext context;
    v1::ResolvePolicyRequest request;
    request.set_domain(row.domain);
    v1::ResolvePolicyResponse response;
    const grpc::Status status = stub_->ResolvePolicy(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << row.domain;
    EXPECT_THAT(status.error_message(), HasSubstr(row.want)) << row.domain;
  }
  EXPECT_EQ(Sample("danegate_invalid_requests_total{rpc=\"ResolvePolicy\"}"),
            "danegate_invalid_requests_total{rpc=\"ResolvePolicy\"} 3");
  EXPECT_TRUE(resolver_.asked().empty()) << "nothing invalid reaches DNS";
}

// The client's deadline passes while the MX answer is outstanding: when it
// comes, the call asks nothing more, and it is counted as cancelled.
TEST_F(ValidatorServiceTest, ACallPastItsDeadlineStartsNoFurtherLookups) {
  resolver_.Hold("example.com");
  grpc::ClientContext context;
  const auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(200);
  context.set_deadline(deadline);
  v1::ResolvePolicyRequest request;
  request.set_domain("example.com");
  v1::ResolvePolicyResponse response;
  const grpc::Status status = stub_->ResolvePolicy(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // gRPC sends the deadline as a timeout, so the server's is later than the
  // client's by the request's transit: the answer comes once it has passed
  // there too (a condition on the clock, which no thread's progress moves).
  while (std::chrono::system_clock::now() < deadline + std::chrono::milliseconds(200)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  resolver_.ReleaseOne();  // the MX answer, after the deadline: the engine runs here
  EXPECT_THAT(resolver_.asked(), ElementsAre("MX example.com"));
  EXPECT_EQ(Sample("danegate_requests_cancelled_total{rpc=\"ResolvePolicy\"}"),
            "danegate_requests_cancelled_total{rpc=\"ResolvePolicy\"} 1");
}

}  // namespace
}  // namespace danegate::server
