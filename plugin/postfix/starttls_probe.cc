#include "plugin/postfix/starttls_probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plugin/postfix/smtp_reply.h"
#include "service/common/socket_io.h"
#include "service/tlsa/openssl_ptr.h"

namespace danegate::postfix {
namespace {

using common::Socket;
using common::WaitReady;

// One address of the host: its sockaddr and how it is written in messages.
struct Address {
  sockaddr_storage storage{};
  socklen_t size = 0;
  std::string text;
};

// Returns the host's addresses (stream sockets), in getaddrinfo's order.
absl::StatusOr<std::vector<Address>> Resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("address: ", gai_strerror(rc)));
  std::vector<Address> addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address address;
    std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
    address.size = a->ai_addrlen;
    char text[INET6_ADDRSTRLEN] = "?";
    const void* ip = a->ai_family == AF_INET6
                         ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
                         : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
    inet_ntop(a->ai_family, ip, text, sizeof text);
    address.text = a->ai_family == AF_INET6 ? absl::StrCat("[", text, "]") : text;
    addresses.push_back(std::move(address));
  }
  freeaddrinfo(found);
  if (addresses.empty()) return absl::UnavailableError("address: none");
  return addresses;
}

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // without CR LF
};

// Reads one (possibly multi-line) SMTP reply; bytes after it stay in `buffer`.
absl::StatusOr<Reply> ReadReply(int fd, std::string& buffer, absl::Time deadline) {
  for (;;) {
    SmtpReplyParse parsed = ParseSmtpReply(buffer);
    if (parsed.state == SmtpReplyParse::State::kMalformed) {
      return absl::UnavailableError(parsed.error);
    }
    if (parsed.state == SmtpReplyParse::State::kComplete) {
      buffer.erase(0, parsed.consumed);
      return Reply{parsed.code, std::move(parsed.lines)};
    }
    absl::Status read = common::ReadSome(fd, buffer, 4096, deadline);
    if (absl::IsUnavailable(read) && read.message() == "connection closed") {
      return absl::UnavailableError("connection closed by the server");
    }
    if (!read.ok()) return read;
  }
}

// Sends `command` (empty: none, for the greeting) and reads the reply, which
// must have `want` as its code.
absl::StatusOr<Reply> Exchange(int fd, std::string& buffer, absl::string_view command, int want,
                               absl::Time deadline) {
  if (!command.empty()) {
    absl::Status sent = common::SendAll(fd, absl::StrCat(command, "\r\n"), deadline);
    if (!sent.ok()) return sent;
  }
  absl::StatusOr<Reply> reply = ReadReply(fd, buffer, deadline);
  const std::string step = command.empty() ? "greeting" : std::string(command.substr(0, 8));
  if (!reply.ok()) {
    return absl::Status(reply.status().code(), absl::StrCat(step, ": ", reply.status().message()));
  }
  if (reply->code != want) {
    return absl::UnavailableError(absl::StrCat(step, ": ", reply->lines.back().substr(0, 200)));
  }
  return reply;
}

std::string TlsError(absl::string_view what) {
  const unsigned long error = ERR_get_error();
  ERR_clear_error();
  char text[256] = "unknown error";
  if (error != 0) ERR_error_string_n(error, text, sizeof text);
  return absl::StrCat(what, ": ", text);
}

absl::StatusOr<tlsa::DerChain> Handshake(int fd, const std::string& sni, absl::Time deadline) {
  tlsa::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr) return absl::InternalError(TlsError("SSL_CTX_new"));
  // Not verified here: only a certificate whose digest the signed TLSA
  // record names is taken from the chain.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  tlsa::SslPtr ssl(SSL_new(ctx.get()));
  if (ssl == nullptr || SSL_set_fd(ssl.get(), fd) != 1 ||
      SSL_set_tlsext_host_name(ssl.get(), sni.c_str()) != 1) {
    return absl::InternalError(TlsError("SSL setup"));
  }
  for (;;) {
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int error = SSL_get_error(ssl.get(), rc);
    absl::Status ready;
    if (error == SSL_ERROR_WANT_READ) {
      ready = WaitReady(fd, POLLIN, deadline);
    } else if (error == SSL_ERROR_WANT_WRITE) {
      ready = WaitReady(fd, POLLOUT, deadline);
    } else {
      return absl::UnavailableError(TlsError("TLS handshake"));
    }
    if (!ready.ok()) return absl::DeadlineExceededError("TLS handshake: timed out");
  }
  STACK_OF(X509)* peer = SSL_get_peer_cert_chain(ssl.get());  // leaf included
  tlsa::DerChain chain;
  const int count = peer == nullptr ? 0 : sk_X509_num(peer);
  for (int i = 0; i < count && chain.size() < tlsa::kMaxChainCertificates; ++i) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(sk_X509_value(peer, i), &der);
    if (len <= 0) return absl::UnavailableError(TlsError("certificate encoding"));
    chain.emplace_back(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  SSL_write(ssl.get(), "QUIT\r\n", 6);  // courtesy only: the answer is not awaited
  ERR_clear_error();
  absl::Status checked = tlsa::CheckChain(chain);
  if (!checked.ok()) return absl::UnavailableError(checked.message());
  return chain;
}

// The whole exchange with one address, within `deadline`.
absl::StatusOr<tlsa::DerChain> FetchFrom(const Address& address, const std::string& sni,
                                         const ProbeOptions& options, absl::Time deadline) {
  absl::StatusOr<Socket> socket = common::ConnectStream(
      reinterpret_cast<const sockaddr*>(&address.storage), address.size, deadline);
  if (!socket.ok()) return socket.status();
  const int fd = socket->fd();
  std::string buffer;
  absl::StatusOr<Reply> reply = Exchange(fd, buffer, "", 220, deadline);
  if (!reply.ok()) return reply.status();
  reply = Exchange(fd, buffer, absl::StrCat("EHLO ", options.helo_name), 250, deadline);
  if (!reply.ok()) return reply.status();
  const bool offered = std::any_of(reply->lines.begin() + 1, reply->lines.end(),
                                   [](const std::string& line) {
                                     return line.size() > 4 &&
                                            absl::EqualsIgnoreCase(
                                                absl::StripAsciiWhitespace(line.substr(4)),
                                                "STARTTLS");
                                   });
  if (!offered) return absl::UnavailableError("EHLO: STARTTLS not offered");
  reply = Exchange(fd, buffer, "STARTTLS", 220, deadline);
  if (!reply.ok()) return reply.status();
  // Nothing may follow the 220 in the clear (RFC 3207 §5: no pipelining
  // into TLS); a server that sends more is not speaking SMTP.
  if (!buffer.empty()) return absl::UnavailableError("STARTTLS: data after the 220 reply");
  return Handshake(fd, sni, deadline);
}

// Tries each address of `host` until one gives a chain, all within
// options.timeout: each address gets an equal share of the time left, so an
// address that does not answer cannot use up the others' time.
absl::StatusOr<tlsa::DerChain> Fetch(const std::string& host, const std::string& sni,
                                     const ProbeOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  absl::StatusOr<std::vector<Address>> addresses = Resolve(host, options.port);
  if (!addresses.ok()) return addresses.status();
  std::vector<std::string> errors;
  absl::StatusCode last = absl::StatusCode::kDeadlineExceeded;
  for (size_t i = 0; i < addresses->size(); ++i) {
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    const absl::Time share = now + (deadline - now) / static_cast<int64_t>(addresses->size() - i);
    const Address& address = (*addresses)[i];
    absl::StatusOr<tlsa::DerChain> chain = FetchFrom(address, sni, options, share);
    if (chain.ok()) return chain;
    errors.push_back(absl::StrCat(address.text, ": ", chain.status().message()));
    last = chain.status().code();
  }
  if (errors.empty()) return absl::DeadlineExceededError("timed out");
  return absl::Status(last, absl::StrJoin(errors, "; "));
}

}  // namespace

absl::StatusOr<tlsa::DerChain> FetchStartTlsChain(const std::string& host, const std::string& sni,
                                                  const ProbeOptions& options) {
  absl::StatusOr<tlsa::DerChain> chain = Fetch(host, sni, options);
  if (!chain.ok()) {
    return absl::Status(chain.status().code(),
                        absl::StrCat(host, ":", options.port, ": ", chain.status().message()));
  }
  return chain;
}

}  // namespace danegate::postfix
