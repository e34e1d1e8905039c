#include "service/smtp/starttls_client.h"

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
#include "service/common/socket_io.h"
#include "service/smtp/smtp_reply.h"
#include "service/tlsa/openssl_ptr.h"

namespace danegate::smtp {
namespace {

using common::Socket;
using common::WaitReady;

// A session that stopped: `failure` unless the deadline passed.
Session Failed(Failure failure, const absl::Status& status, absl::string_view step = "") {
  Session session;
  session.failure = absl::IsDeadlineExceeded(status) ? Failure::kTimeout : failure;
  session.error =
      step.empty() ? std::string(status.message()) : absl::StrCat(step, ": ", status.message());
  return session;
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

// Sends `command` (empty: none, for the greeting) and reads the reply;
// a reply code other than `want` is an error naming the reply.
absl::StatusOr<Reply> Exchange(int fd, std::string& buffer, absl::string_view command, int want,
                               absl::Time deadline) {
  if (!command.empty()) {
    absl::Status sent = common::SendAll(fd, absl::StrCat(command, "\r\n"), deadline);
    if (!sent.ok()) return sent;
  }
  absl::StatusOr<Reply> reply = ReadReply(fd, buffer, deadline);
  if (!reply.ok()) return reply.status();
  if (reply->code != want) return absl::UnavailableError(reply->lines.back().substr(0, 200));
  return reply;
}

std::string TlsError(absl::string_view what) {
  const unsigned long error = ERR_get_error();
  ERR_clear_error();
  char text[256] = "unknown error";
  if (error != 0) ERR_error_string_n(error, text, sizeof text);
  return absl::StrCat(what, ": ", text);
}

Session Handshake(int fd, const std::string& sni, absl::Time deadline) {
  tlsa::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr) return Failed(Failure::kTls, absl::InternalError(TlsError("SSL_CTX_new")));
  // Not verified here: the caller judges the chain against signed TLSA
  // records.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  tlsa::SslPtr ssl(SSL_new(ctx.get()));
  if (ssl == nullptr || SSL_set_fd(ssl.get(), fd) != 1 ||
      SSL_set_tlsext_host_name(ssl.get(), sni.c_str()) != 1) {
    return Failed(Failure::kTls, absl::InternalError(TlsError("SSL setup")));
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
      return Failed(Failure::kTls, absl::UnavailableError(TlsError("TLS handshake")));
    }
    if (!ready.ok()) return Failed(Failure::kTimeout, ready, "TLS handshake");
  }
  Session session;
  STACK_OF(X509)* peer = SSL_get_peer_cert_chain(ssl.get());  // leaf included
  const int count = peer == nullptr ? 0 : sk_X509_num(peer);
  for (int i = 0; i < count && session.chain.size() < tlsa::kMaxChainCertificates; ++i) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(sk_X509_value(peer, i), &der);
    if (len <= 0) {
      return Failed(Failure::kTls, absl::UnavailableError(TlsError("certificate encoding")));
    }
    session.chain.emplace_back(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  session.protocol = SSL_get_version(ssl.get());
  session.cipher = SSL_get_cipher_name(ssl.get());
  SSL_write(ssl.get(), "QUIT\r\n", 6);  // courtesy only: the answer is not awaited
  ERR_clear_error();
  absl::Status checked = tlsa::CheckChain(session.chain);
  if (!checked.ok()) return Failed(Failure::kTls, checked, "certificate chain");
  return session;
}

bool OffersStartTls(const Reply& ehlo) {
  return std::any_of(ehlo.lines.begin() + 1, ehlo.lines.end(), [](const std::string& line) {
    return line.size() > 4 &&
           absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(4)), "STARTTLS");
  });
}

}  // namespace

const char* FailureName(Failure failure) {
  switch (failure) {
    case Failure::kNone: return "none";
    case Failure::kConnect: return "connect_failed";
    case Failure::kSmtp: return "smtp_error";
    case Failure::kStartTlsNotOffered: return "starttls_not_offered";
    case Failure::kStartTlsRefused: return "starttls_refused";
    case Failure::kTls: return "tls_failed";
    case Failure::kTimeout: return "timed_out";
  }
  return "unknown";
}

absl::Status CheckHeloName(absl::string_view flag, absl::string_view name) {
  if (name.empty() || name.size() > 255 || name.find_first_of(" \t\r\n") != name.npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", name, "': want a host name (no spaces, at most 255 characters)"));
  }
  return absl::OkStatus();
}

Session StartTls(const common::SocketAddress& address, const std::string& sni,
                 const std::string& helo_name, absl::Time deadline) {
  absl::StatusOr<Socket> socket = common::ConnectStream(
      reinterpret_cast<const sockaddr*>(&address.storage), address.size, deadline);
  if (!socket.ok()) return Failed(Failure::kConnect, socket.status());
  const int fd = socket->fd();
  std::string buffer;
  absl::StatusOr<Reply> reply = Exchange(fd, buffer, "", 220, deadline);
  if (!reply.ok()) return Failed(Failure::kSmtp, reply.status(), "greeting");
  reply = Exchange(fd, buffer, absl::StrCat("EHLO ", helo_name), 250, deadline);
  if (!reply.ok()) return Failed(Failure::kSmtp, reply.status(), "EHLO");
  if (!OffersStartTls(*reply)) {
    return Failed(Failure::kStartTlsNotOffered, absl::UnavailableError("STARTTLS not offered"),
                  "EHLO");
  }
  reply = Exchange(fd, buffer, "STARTTLS", 220, deadline);
  if (!reply.ok()) return Failed(Failure::kStartTlsRefused, reply.status(), "STARTTLS");
  // Nothing may follow the 220 in the clear (RFC 3207 §5: no pipelining
  // into TLS); a server that sends more is not speaking SMTP.
  if (!buffer.empty()) {
    return Failed(Failure::kStartTlsRefused, absl::UnavailableError("data after the 220 reply"),
                  "STARTTLS");
  }
  return Handshake(fd, sni, deadline);
}

absl::StatusOr<tlsa::DerChain> FetchStartTlsChain(const std::string& host, const std::string& sni,
                                                  const FetchOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  const std::string where = absl::StrCat(host, ":", options.port, ": ");
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(options.port).c_str(), &hints, &found);
  if (rc != 0) return absl::UnavailableError(absl::StrCat(where, "address: ", gai_strerror(rc)));
  std::vector<common::SocketAddress> addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    common::SocketAddress address;
    std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
    address.size = a->ai_addrlen;
    addresses.push_back(address);
  }
  freeaddrinfo(found);
  if (addresses.empty()) return absl::UnavailableError(absl::StrCat(where, "address: none"));
  std::vector<std::string> errors;
  Failure last = Failure::kTimeout;
  for (size_t i = 0; i < addresses.size(); ++i) {
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    // An equal share of the time left: an address that does not answer
    // cannot use up the others' time.
    const absl::Time share = now + (deadline - now) / static_cast<int64_t>(addresses.size() - i);
    Session session = StartTls(addresses[i], sni, options.helo_name, share);
    if (session.failure == Failure::kNone) return std::move(session.chain);
    errors.push_back(absl::StrCat(addresses[i].ToString(), ": ", session.error));
    last = session.failure;
  }
  if (errors.empty()) return absl::DeadlineExceededError(absl::StrCat(where, "timed out"));
  const std::string message = absl::StrCat(where, absl::StrJoin(errors, "; "));
  return last == Failure::kTimeout ? absl::DeadlineExceededError(message)
                                   : absl::UnavailableError(message);
}

}  // namespace danegate::smtp
