// danegate_exim.so: Exim ${dlfunc} entry points that make Exim obey
// danegated's verdicts. They ask danegate-agent on its local socket (the
// tables of plugin/agent/exim_lookup.h) and never run gRPC: the library
// needs nothing but libc, so loading it into each Exim process is cheap and
// it survives Exim's fork() at any moment (no threads, no connection kept).
//
//   danegate_policy{AGENT}{DOMAIN}{PORT}{TIMEOUT_MS}
//       the router's address_data, "ROUTE|EXEMPT|SNI" (exim_lookup.h).
//   danegate_connect{}
//       event_action on tcp:connect: forgets the last certificate verdict,
//       so a verdict never outlives its connection.
//   danegate_verify{AGENT}{DOMAIN}{HOST}{PORT}{DEPTH}{CERT_BASE64}{TIMEOUT_MS}
//       event_action on tls:cert, once per certificate, root first: at the
//       leaf the chain goes to the agent. "" allows the handshake, anything
//       else denies it; the verdict is kept for danegate_gate.
//   danegate_gate{DOMAIN}{HOST}{PORT}
//       the transport's authenticated_sender, expanded before every MAIL
//       command of a TLS session: "" when this connection's verdict was
//       deliver for this domain, host and port; otherwise the function
//       fails, and Exim defers the message with our reason ("failed to
//       expand authenticated_sender: danegate defer (REASON): ..."). This is
//       what enforces a deny on an OpenSSL-linked Exim, which overrides a
//       tls:cert deny while tls_try_verify_hosts matches the host (its
//       default); GnuTLS builds already fail the handshake.
//
// Exim delivers anyway when a dlfunc returns FAIL in most places (a router
// condition, a host list), so danegate_policy and danegate_verify always
// return OK and express failure in their string: a defer, a deny. Only
// danegate_gate fails, where a failed expansion defers the message. Every
// error (agent down, slower than TIMEOUT_MS, malformed answer) is a defer.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DANEGATE_EXPORT __attribute__((visibility("default")))

namespace {

using uschar = unsigned char;
constexpr int kExiOk = 0;      // Exim's OK
constexpr int kExiFail = 2;    // Exim's FAIL: a non-forced expansion failure
constexpr int kLogMain = 1;    // Exim's LOG_MAIN
constexpr int kMaxDepth = 16;  // certificates in a chain
constexpr size_t kMaxCertBase64 = (64 * 1024 + 2) / 3 * 4;  // one certificate
constexpr size_t kMaxReply = 64 * 1024;                     // one agent reply
constexpr size_t kMaxKeyPart = 255;                         // domain, host

// A growable byte buffer on malloc (no C++ runtime needed).
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { free(data_); }
  const char* data() const { return data_ != nullptr ? data_ : ""; }
  size_t size() const { return size_; }
  void clear() {
    size_ = 0;
    if (data_ != nullptr) data_[0] = '\0';
  }
  // Appends `n` bytes; false when memory runs out (the buffer is unchanged).
  bool Append(const char* bytes, size_t n) {
    if (size_ + n + 1 > capacity_) {
      size_t capacity = capacity_ == 0 ? 256 : capacity_;
      while (capacity < size_ + n + 1) capacity *= 2;
      char* grown = static_cast<char*>(realloc(data_, capacity));
      if (grown == nullptr) return false;
      data_ = grown;
      capacity_ = capacity;
    }
    memcpy(data_ + size_, bytes, n);
    size_ += n;
    data_[size_] = '\0';
    return true;
  }
  bool Append(const char* text) { return Append(text, strlen(text)); }
  bool Printf(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    char line[1024];
    va_list args;
    va_start(args, format);
    const int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n < 0) return false;
    return Append(line,
                  static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// What a dlfunc hands back; Exim copies it before the next call.
Buffer result;

int Yield(uschar** yield, int status, const char* text) {
  result.clear();
  result.Append(text);
  *yield = reinterpret_cast<uschar*>(const_cast<char*>(result.data()));
  return status;
}

// Writes to Exim's main log (Exim exports log_write).
void LogMain(const char* format, ...) __attribute__((format(printf, 1, 2)));
void LogMain(const char* format, ...) {
  using LogWrite = void (*)(unsigned int, int, const char*, ...);
  static auto log_write = reinterpret_cast<LogWrite>(dlsym(RTLD_DEFAULT, "log_write"));
  if (log_write == nullptr) return;
  char line[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(line, sizeof line, format, args);
  va_end(args);
  for (char* p = line; *p != '\0'; ++p) {
    if (static_cast<unsigned char>(*p) < 0x20 || *p == 0x7f) *p = ' ';
  }
  log_write(0, kLogMain, "%s", line);
}

const char* Arg(int argc, uschar* argv[], int i) {
  return i < argc && argv[i] != nullptr ? reinterpret_cast<const char*>(argv[i]) : "";
}

// A key field: non-empty, bounded, printable, no space (fields are
// space-separated on the wire).
bool KeyPartOk(const char* text, size_t max) {
  const size_t n = strnlen(text, max + 1);
  if (n == 0 || n > max) return false;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool Base64Ok(const char* text) {
  const size_t n = strnlen(text, kMaxCertBase64 + 1);
  if (n == 0 || n > kMaxCertBase64) return false;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '/' || c == '=')) {
      return false;
    }
  }
  return true;
}

// Parses all of `text` as a decimal in [min, max].
bool ParseUnsigned(const char* text, long min, long max, long* out) {
  if (*text == '\0') return false;
  long value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9' || value > max) return false;
    value = value * 10 + (*p - '0');
  }
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

long NowMs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

// Waits for `events` on `fd` until `deadline_ms`; false on timeout or error.
bool WaitFor(int fd, short events, long deadline_ms) {
  for (;;) {
    const long left = deadline_ms - NowMs();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// Connects to the agent: "unix:/PATH", "/PATH", "127.0.0.1:PORT" or
// "[::1]:PORT" (numeric only: no DNS here). Returns the fd or -1 with `why`.
int ConnectAgent(const char* agent, long deadline_ms, const char** why) {
  sockaddr_storage address{};
  socklen_t size = 0;
  const char* path = strncmp(agent, "unix:", 5) == 0 ? agent + 5 : agent;
  if (path[0] == '/') {
    auto* un = reinterpret_cast<sockaddr_un*>(&address);
    if (strlen(path) >= sizeof un->sun_path) return *why = "agent socket path too long", -1;
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    size = sizeof(sockaddr_un);
  } else {
    char host[64];
    const char* colon = strrchr(agent, ':');
    long port = 0;
    if (colon == nullptr || static_cast<size_t>(colon - agent) >= sizeof host ||
        !ParseUnsigned(colon + 1, 1, 65535, &port)) {
      return *why = "agent address is not unix:/PATH, /PATH or ADDRESS:PORT", -1;
    }
    memcpy(host, agent, static_cast<size_t>(colon - agent));
    host[colon - agent] = '\0';
    auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    const size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
      host[n - 1] = '\0';
      if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
        return *why = "bad agent address", -1;
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(static_cast<uint16_t>(port));
      size = sizeof(sockaddr_in6);
    } else {
      if (inet_pton(AF_INET, host, &in4->sin_addr) != 1) return *why = "bad agent address", -1;
      in4->sin_family = AF_INET;
      in4->sin_port = htons(static_cast<uint16_t>(port));
      size = sizeof(sockaddr_in);
    }
  }
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return *why = "cannot create a socket", -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), size) != 0) {
    int error = errno;
    if (error == EINPROGRESS || error == EAGAIN) {
      if (!WaitFor(fd, POLLOUT, deadline_ms)) {
        close(fd);
        return *why = "timed out connecting to the agent", -1;
      }
      socklen_t len = sizeof error;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    }
    if (error != 0) {
      close(fd);
      *why = error == ENOENT || error == ECONNREFUSED ? "agent not running (connection refused)"
                                                      : "cannot connect to the agent";
      return -1;
    }
  }
  return fd;
}

bool SendAll(int fd, const char* data, size_t size, long deadline_ms) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline_ms)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Reads one netstring reply into `payload`; false with `why` on anything odd.
bool ReadReply(int fd, long deadline_ms, Buffer& payload, const char** why) {
  Buffer in;
  size_t length = 0, digits = 0;
  for (;;) {
    // Parse what is there: LEN ':' PAYLOAD ','.
    const char* d = in.data();
    size_t i = 0;
    for (; i < in.size() && d[i] >= '0' && d[i] <= '9'; ++i) {
    }
    digits = i;
    if (i < in.size()) {
      if (d[i] != ':' || digits == 0 || digits > 6 || (digits > 1 && d[0] == '0')) {
        return *why = "malformed reply from the agent", false;
      }
      length = strtoul(d, nullptr, 10);
      if (length > kMaxReply) return *why = "oversized reply from the agent", false;
      if (in.size() >= digits + 1 + length + 1) {
        if (d[digits + 1 + length] != ',') return *why = "malformed reply from the agent", false;
        payload.clear();
        return payload.Append(d + digits + 1, length) || (*why = "out of memory", false);
      }
    } else if (digits > 6) {
      return *why = "malformed reply from the agent", false;
    }
    if (!WaitFor(fd, POLLIN, deadline_ms)) return *why = "timed out waiting for the agent", false;
    char chunk[4096];
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) return *why = "the agent closed the connection", false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return *why = "error reading from the agent", false;
    }
    if (!in.Append(chunk, static_cast<size_t>(n))) return *why = "out of memory", false;
  }
}

// Asks the agent: `request` is "MAP KEY". On an "OK" reply returns true
// with the value in `value`; otherwise false with `reason` (a reason code)
// and `detail`.
bool Ask(const char* agent, const char* timeout_ms, const Buffer& request, Buffer& value,
         const char** reason, Buffer& detail) {
  long timeout = 0;
  if (!ParseUnsigned(timeout_ms, 1, 600000, &timeout)) timeout = 5000;
  const long deadline = NowMs() + timeout;
  const char* why = nullptr;
  *reason = "agent_unavailable";
  const int fd = ConnectAgent(agent, deadline, &why);
  if (fd < 0) return detail.Printf("%s: %s", agent, why), false;
  char length[24];
  snprintf(length, sizeof length, "%zu:", request.size());
  Buffer reply;
  const bool sent = SendAll(fd, length, strlen(length), deadline) &&
                    SendAll(fd, request.data(), request.size(), deadline) &&
                    SendAll(fd, ",", 1, deadline);
  const bool read = sent && ReadReply(fd, deadline, reply, &why);
  close(fd);
  if (!sent) return detail.Printf("%s: cannot send to the agent", agent), false;
  if (!read) return detail.Printf("%s: %s", agent, why), false;
  if (strncmp(reply.data(), "OK ", 3) == 0) {
    value.clear();
    return value.Append(reply.data() + 3, reply.size() - 3);
  }
  // "TEMP|PERM REASON: DETAIL": the agent's reason code leads the text.
  const char* text = strchr(reply.data(), ' ');
  text = text != nullptr ? text + 1 : "";
  static char reason_buffer[64];
  const size_t n = strcspn(text, ": ");
  if (n > 0 && n < sizeof reason_buffer && text[n] == ':') {
    memcpy(reason_buffer, text, n);
    reason_buffer[n] = '\0';
    *reason = reason_buffer;
    text += n + 1;
    while (*text == ' ') ++text;
  } else {
    *reason = "agent_error";
  }
  detail.Printf("%.500s", text);
  return false;
}

// The certificates of one handshake received so far, by depth (base64).
struct PendingChain {
  Buffer key;  // "DOMAIN HOST PORT"
  int last_depth = -1;
  Buffer der_base64[kMaxDepth];
  bool have[kMaxDepth] = {};

  void Reset() {
    key.clear();
    last_depth = -1;
    for (int i = 0; i < kMaxDepth; ++i) {
      der_base64[i].clear();
      have[i] = false;
    }
  }
};
PendingChain pending;

// The verdict on this connection's certificate chain.
struct Verdict {
  bool known = false;
  bool deliver = false;
  Buffer key;     // "DOMAIN HOST PORT"
  Buffer denial;  // why not, when !deliver
};
Verdict verdict;

void Judge(const Buffer& key, bool deliver, const char* denial) {
  verdict.known = true;
  verdict.deliver = deliver;
  verdict.key.clear();
  verdict.key.Append(key.data(), key.size());
  verdict.denial.clear();
  verdict.denial.Append(denial);
}

}  // namespace

extern "C" DANEGATE_EXPORT int danegate_policy(uschar** yield, int argc, uschar* argv[]) {
  const char* domain = Arg(argc, argv, 1);
  Buffer request, value, detail;
  const char* reason = "plugin_error";
  long port = 0;
  if (!KeyPartOk(domain, kMaxKeyPart) || !ParseUnsigned(Arg(argc, argv, 2), 1, 65535, &port)) {
    detail.Append("bad arguments to danegate_policy");
  } else if (request.Printf("exim_policy %s %ld", domain, port) &&
             Ask(Arg(argc, argv, 0), Arg(argc, argv, 3), request, value, &reason, detail)) {
    return Yield(yield, kExiOk, value.data());
  }
  // No verdict: defer, and require TLS of every host ("|" leaves EXEMPT empty).
  Buffer out;
  out.Printf(":defer: danegate defer (%s): %s", reason, detail.data());
  for (char* p = const_cast<char*>(out.data()); *p != '\0'; ++p) {
    if (*p == '|') *p = '/';
  }
  out.Append("||");
  return Yield(yield, kExiOk, out.data());
}

extern "C" DANEGATE_EXPORT int danegate_connect(uschar** yield, int, uschar*[]) {
  pending.Reset();
  verdict.known = false;
  return Yield(yield, kExiOk, "");
}

extern "C" DANEGATE_EXPORT int danegate_verify(uschar** yield, int argc, uschar* argv[]) {
  const char* domain = Arg(argc, argv, 1);
  const char* host = Arg(argc, argv, 2);
  const char* cert = Arg(argc, argv, 5);
  long port = 0, depth = 0;
  Buffer key;
  if (!KeyPartOk(domain, kMaxKeyPart) || !KeyPartOk(host, kMaxKeyPart) ||
      !ParseUnsigned(Arg(argc, argv, 3), 1, 65535, &port) ||
      !ParseUnsigned(Arg(argc, argv, 4), 0, kMaxDepth - 1, &depth) || !Base64Ok(cert) ||
      !key.Printf("%s %s %ld", domain, host, port)) {
    pending.Reset();
    const char* denial = "danegate defer (plugin_error): bad certificate event arguments";
    Judge(key, false, denial);
    return Yield(yield, kExiOk, denial);
  }
  // Root first, leaf last: a depth not below the last one starts a chain.
  if (strcmp(pending.key.data(), key.data()) != 0 || pending.last_depth < 0 ||
      depth >= pending.last_depth) {
    pending.Reset();
    pending.key.Append(key.data(), key.size());
  }
  pending.der_base64[depth].clear();
  pending.have[depth] = pending.der_base64[depth].Append(cert);
  pending.last_depth = static_cast<int>(depth);
  if (depth != 0) return Yield(yield, kExiOk, "");

  Buffer request, value, detail;
  const char* reason = "plugin_error";
  bool complete = request.Printf("exim_verify %s", key.data());
  for (int i = 0; complete && i < kMaxDepth && pending.have[i]; ++i) {
    complete = request.Append(" ") && request.Append(pending.der_base64[i].data());
  }
  for (int i = 0; i < kMaxDepth; ++i) {
    if (!pending.have[i] && i < kMaxDepth - 1 && pending.have[i + 1]) complete = false;
  }
  pending.Reset();
  Buffer denial;
  bool deliver = false;
  if (!complete) {
    denial.Append("danegate defer (plugin_error): incomplete certificate chain");
  } else if (!Ask(Arg(argc, argv, 0), Arg(argc, argv, 6), request, value, &reason, detail)) {
    denial.Printf("danegate defer (%s): %s", reason, detail.data());
  } else if (strncmp(value.data(), "deliver ", 8) == 0) {
    deliver = true;
  } else if (strncmp(value.data(), "deny ", 5) == 0 && value.size() > 5) {
    denial.Append(value.data() + 5);
  } else {
    denial.Append("danegate defer (agent_error): unexpected answer to exim_verify");
  }
  Judge(key, deliver, denial.data());
  // "danegate: example.org via mx1.example.org: dane_authenticated TLSA 3 1 1 ..."
  LogMain("danegate: %.255s via %.255s: %s", domain, host,
          deliver ? value.data() + 8 : denial.data());
  return Yield(yield, kExiOk, denial.data());
}

extern "C" DANEGATE_EXPORT int danegate_gate(uschar** yield, int argc, uschar* argv[]) {
  Buffer key;
  key.Printf("%s %s %s", Arg(argc, argv, 0), Arg(argc, argv, 1), Arg(argc, argv, 2));
  if (verdict.known && verdict.deliver && strcmp(verdict.key.data(), key.data()) == 0) {
    return Yield(yield, kExiOk, "");
  }
  Buffer why;
  if (verdict.known && strcmp(verdict.key.data(), key.data()) == 0) {
    why.Append(verdict.denial.data());
  } else {
    why.Printf(
        "danegate defer (no_verdict): no certificate verdict for this TLS session "
        "with %.255s",
        Arg(argc, argv, 1));
  }
  LogMain("danegate: %.255s via %.255s: blocked after the handshake: %s", Arg(argc, argv, 0),
          Arg(argc, argv, 1), why.data());
  return Yield(yield, kExiFail, why.data());
}
