// GrpcListener with a real gRPC server on loopback: a connection it hands
// over gets the server's HTTP/2 SETTINGS (gRPC's plaintext server speaks
// first); one it refuses is closed without a byte.
#include "service/server/grpc_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace danegate::server {
namespace {

constexpr auto kFromFd = grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD;

// An fd that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Connects to 127.0.0.1:port; -1 on failure (errno set).
Fd Connect(int port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd.get() < 0 ||
      connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return Fd();
  }
  return fd;
}

enum class Greeting { kSettings, kClosed, kNothing };

// What the server does first on `fd`: HTTP/2 SETTINGS (frame type 4), a
// close without data, or nothing within 5 s.
Greeting FirstWord(const Fd& fd) {
  pollfd p = {fd.get(), POLLIN, 0};
  if (poll(&p, 1, 5000) != 1) return Greeting::kNothing;
  unsigned char header[9];
  const ssize_t n = recv(fd.get(), header, sizeof header, MSG_WAITALL);
  if (n <= 0) return Greeting::kClosed;
  return n == 9 && header[3] == 4 ? Greeting::kSettings : Greeting::kNothing;
}

// Waits (bounded) until `listener` counts `want` open connections: gRPC
// closes its side of a connection after reading the client's close.
bool WaitForConnections(GrpcListener& listener, size_t want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (listener.GetStats().connections != want) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class GrpcListenerTest : public ::testing::Test {
 protected:
  void Start(size_t max_connections) {
    absl::StatusOr<std::unique_ptr<GrpcListener>> bound =
        GrpcListener::Bind("--listen", "127.0.0.1:0", max_connections);
    ASSERT_TRUE(bound.ok()) << bound.status();
    listener_ = *std::move(bound);
    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(&service_);  // a server needs a service
    auto acceptor = builder.experimental().AddExternalConnectionAcceptor(
        kFromFd, grpc::InsecureServerCredentials());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    listener_->Start(std::move(acceptor), [this](const absl::Status&) { failed_ = true; });
  }

  void TearDown() override {
    if (listener_) listener_->Stop();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    EXPECT_FALSE(failed_);
  }

  grpc::CallbackGenericService service_;
  std::unique_ptr<GrpcListener> listener_;
  std::unique_ptr<grpc::Server> server_;
  bool failed_ = false;
};

TEST_F(GrpcListenerTest, HandsConnectionsToTheServer) {
  Start(100);
  Fd client = Connect(listener_->port());
  ASSERT_GE(client.get(), 0);
  EXPECT_EQ(FirstWord(client), Greeting::kSettings);
  GrpcListener::Stats got = listener_->GetStats();
  EXPECT_TRUE(got.accepting);
  EXPECT_EQ(got.connections, 1u);
}

TEST_F(GrpcListenerTest, RefusesPastTheCapAndAcceptsOnceOneCloses) {
  Start(2);
  std::vector<Fd> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(Connect(listener_->port()));
    ASSERT_EQ(FirstWord(held.back()), Greeting::kSettings) << i;
  }
  Fd third = Connect(listener_->port());
  EXPECT_EQ(FirstWord(third), Greeting::kClosed);
  EXPECT_EQ(listener_->GetStats().refused_at_cap, 1u);

  held.pop_back();
  ASSERT_TRUE(WaitForConnections(*listener_, 1));
  Fd fourth = Connect(listener_->port());
  EXPECT_EQ(FirstWord(fourth), Greeting::kSettings);
  EXPECT_EQ(listener_->GetStats().refused_at_cap, 1u);
}

// gRPC 1.51's own listener stops for good after accept4() fails with EMFILE;
// this one closes the waiting connection and goes on.
TEST_F(GrpcListenerTest, OutOfDescriptorsShedsAndRecovers) {
  Start(1000);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  // Take every descriptor left, then give one back for the client's socket.
  std::vector<Fd> filler;
  for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.emplace_back(fd);
  ASSERT_FALSE(filler.empty());
  filler.pop_back();
  Fd starved = Connect(listener_->port());
  ASSERT_GE(starved.get(), 0);
  EXPECT_EQ(FirstWord(starved), Greeting::kClosed);
  EXPECT_GE(listener_->GetStats().refused_no_descriptor, 1u);

  filler.clear();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  Fd after = Connect(listener_->port());
  EXPECT_EQ(FirstWord(after), Greeting::kSettings);
  EXPECT_TRUE(listener_->GetStats().accepting);
}

TEST_F(GrpcListenerTest, StopClosesThePort) {
  Start(100);
  const int port = listener_->port();
  listener_->Stop();
  EXPECT_FALSE(listener_->GetStats().accepting);
  Fd client = Connect(port);
  EXPECT_LT(client.get(), 0);
  EXPECT_EQ(errno, ECONNREFUSED);
}

TEST(GrpcListenerBindTest, ATakenPortIsAnError) {
  absl::StatusOr<std::unique_ptr<GrpcListener>> first =
      GrpcListener::Bind("--listen", "127.0.0.1:0", 10);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string again = "127.0.0.1:" + std::to_string((*first)->port());
  absl::StatusOr<std::unique_ptr<GrpcListener>> second = GrpcListener::Bind("--listen", again, 10);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another process has the port"), std::string::npos)
      << second.status();
}

TEST(GrpcListenerBindTest, BadAddressesAreErrors) {
  for (const char* listen : {"nohost", "example.org:50051", "127.0.0.1:70000", "[::1:5"}) {
    EXPECT_FALSE(GrpcListener::Bind("--listen", listen, 10).ok()) << listen;
  }
}

}  // namespace
}  // namespace danegate::server
