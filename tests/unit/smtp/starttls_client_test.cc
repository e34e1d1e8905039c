// The STARTTLS client against scripted SMTP servers on loopback: every way a
// server can misbehave before the TLS handshake ends in a clear error, with
// the step it stopped at, within the deadline. (The handshake with real MTAs
// is tested end to end with Exim in tests/integration/test_postfix.py and
// test_cli_probe.py.)
#include "service/smtp/starttls_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace danegate::smtp {
namespace {

using ::testing::HasSubstr;

// Listens on 127.0.0.1; serves one connection: "> text" sends text, "<"
// reads one line from the client, "r" reads what the client sent (one
// read), "x" closes the connection.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> script) : script_(std::move(script)) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener_, 1) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    shutdown(listener_, SHUT_RDWR);
    thread_.join();
    close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    const int fd = accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    for (const std::string& step : script_) {
      if (step == "x") {
        close(fd);
        return;
      }
      if (step == "<") {
        char c = 0;
        while (read(fd, &c, 1) == 1 && c != '\n') {
        }
      } else if (step == "r") {
        char buffer[4096];
        if (read(fd, buffer, sizeof buffer) <= 0) break;
      } else {
        const std::string text = step.substr(2);
        if (send(fd, text.data(), text.size(), MSG_NOSIGNAL) < 0) break;
      }
    }
    // Hold the connection until the client closes it.
    char c;
    while (read(fd, &c, 1) > 0) {
    }
    close(fd);
  }

  std::vector<std::string> script_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

common::SocketAddress Loopback(uint16_t port) {
  absl::StatusOr<common::SocketAddress> address =
      common::ParseSocketAddress("test", "127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(address.ok());
  return *address;
}

TEST(StartTlsTest, MisbehavingServers) {
  const std::string ehlo_ok = "> 250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
  struct Row {
    std::string name;
    std::vector<std::string> script;
    Failure failure;
    std::string want;  // substring of the error
  };
  const Row rows[] = {
      {"refusing greeting", {"> 554 go away\r\n"}, Failure::kSmtp, "greeting: 554 go away"},
      {"no STARTTLS",
       {"> 220 hi\r\n", "<", "> 250-mx.example\r\n250 SIZE 1000\r\n"},
       Failure::kStartTlsNotOffered,
       "EHLO: STARTTLS not offered"},
      {"EHLO refused", {"> 220 hi\r\n", "<", "> 502 no\r\n"}, Failure::kSmtp, "EHLO: 502 no"},
      {"STARTTLS refused",
       {"> 220 hi\r\n", "<", ehlo_ok, "<", "> 454 not now\r\n"},
       Failure::kStartTlsRefused,
       "STARTTLS: 454 not now"},
      {"data after the 220 to STARTTLS",
       {"> 220 hi\r\n", "<", ehlo_ok, "<", "> 220 go ahead\r\n250 injected\r\n"},
       Failure::kStartTlsRefused,
       "data after the 220"},
      {"endless line", {"> 220 " + std::string(5000, 'x')}, Failure::kSmtp, "reply line too long"},
      {"endless reply",
       {"> 220-hi\r\n" +
        [] {
          std::string lines;
          for (int i = 0; i < 150; ++i) lines += "220-more\r\n";
          return lines;
        }()},
       Failure::kSmtp,
       "too many lines"},
      {"not SMTP", {"> HTTP/1.1 400 Bad Request\r\n"}, Failure::kSmtp, "malformed reply line"},
      {"mixed codes", {"> 220-hi\r\n250 there\r\n"}, Failure::kSmtp, "different codes"},
      {"closes at once", {"x"}, Failure::kSmtp, "connection closed by the server"},
      {"no TLS after STARTTLS",
       {"> 220 hi\r\n", "<", ehlo_ok, "<", "> 220 go ahead\r\n", "r", "> this is not TLS\r\n"},
       Failure::kTls,
       "TLS handshake"},
  };
  for (const Row& row : rows) {
    ScriptedServer server(row.script);
    Session got = StartTls(Loopback(server.port()), "mx.example", "client.example",
                           absl::Now() + absl::Seconds(10));
    EXPECT_EQ(FailureName(got.failure), std::string(FailureName(row.failure))) << row.name;
    EXPECT_THAT(got.error, HasSubstr(row.want)) << row.name;
    EXPECT_TRUE(got.chain.empty()) << row.name;
  }
}

TEST(CheckHeloNameTest, Table) {
  EXPECT_TRUE(CheckHeloName("--helo-name", "mx1.example.org").ok());
  EXPECT_TRUE(CheckHeloName("--helo-name", std::string(255, 'a')).ok());
  for (const std::string& bad : {std::string(), std::string(256, 'a'), std::string("a b"),
                                 std::string("a\r\nRCPT"), std::string("a\tb")}) {
    absl::Status got = CheckHeloName("--helo-name", bad);
    EXPECT_TRUE(absl::IsInvalidArgument(got)) << bad;
    EXPECT_THAT(std::string(got.message()), HasSubstr("--helo-name '")) << bad;
  }
}

TEST(FetchStartTlsChainTest, NamesTheAddressInItsError) {
  ScriptedServer server({"> 554 go away\r\n"});
  FetchOptions options{.port = server.port(), .timeout = absl::Seconds(10)};
  absl::StatusOr<tlsa::DerChain> got = FetchStartTlsChain("127.0.0.1", "mx.example", options);
  EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
  EXPECT_THAT(std::string(got.status().message()),
              HasSubstr(absl::StrCat("127.0.0.1:", server.port(), ": greeting: 554 go away")));
}

TEST(FetchStartTlsChainTest, SilentServerMeetsTheDeadline) {
  ScriptedServer server({});  // accepts and says nothing
  FetchOptions options{.port = server.port(), .timeout = absl::Milliseconds(200)};
  absl::StatusOr<tlsa::DerChain> got = FetchStartTlsChain("127.0.0.1", "mx.example", options);
  EXPECT_TRUE(absl::IsDeadlineExceeded(got.status())) << got.status();
}

TEST(FetchStartTlsChainTest, NothingListening) {
  // A port of ours that is bound but not listening: connecting is refused.
  const int bound = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(bound, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(getsockname(bound, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  FetchOptions options{.port = ntohs(addr.sin_port), .timeout = absl::Seconds(5)};
  absl::StatusOr<tlsa::DerChain> got = FetchStartTlsChain("127.0.0.1", "mx.example", options);
  EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("connect: Connection refused"));
  close(bound);
}

}  // namespace
}  // namespace danegate::smtp
