// danegate_exim.so: Exim ${dlfunc} entry points that ask danegated, around
// STARTTLS, whether a message may go, and make Exim obey.
//
//   danegate_policy{CONF}{DOMAIN}           in a redirect router's address_data:
//       "ROUTE|HOSTS". ROUTE is "" (decline, route normally), ":defer: ..."
//       or ":fail: ..." with the reason code; HOSTS is the transport's
//       hosts_require_tls: every host except those the policy lets go
//       without TLS. Exim keeps address_data with the address, so the
//       transport needs no second call.
//   danegate_verify{CONF}{DOMAIN}{HOST}{PORT}{DEPTH}{CERT_BASE64}
//       event_action on tls:cert, once per certificate, root first: ""
//       allows the handshake, a non-empty string denies it.
//
// Exim delivers anyway when a dlfunc returns FAIL or DEFER (it logs to the
// paniclog), so every entry point returns OK and expresses failure in its
// string: a defer, a deny, or "*" (TLS for every host). Never a pass.
#include <dlfcn.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "plugin/client/danegate_client.h"

namespace {

using uschar = unsigned char;
constexpr int kExiOk = 0;  // Exim's OK
constexpr int kLogMain = 1;  // Exim's LOG_MAIN
constexpr size_t kMaxDepth = 16;
constexpr size_t kMaxCertBase64 = (64 * 1024 + 2) / 3 * 4 + 4;

// The result handed back to Exim, which copies it into its own store.
thread_local std::string result;

int Yield(uschar** yield, std::string text) {
  result = std::move(text);
  *yield = reinterpret_cast<uschar*>(result.data());
  return kExiOk;
}

// Writes to Exim's main log when the host exports log_write (Exim does);
// otherwise the text is lost, which affects only logging.
void LogMain(const std::string& text) {
  using LogWrite = void (*)(unsigned int, int, const char*, ...);
  static auto log_write = reinterpret_cast<LogWrite>(dlsym(RTLD_DEFAULT, "log_write"));
  if (log_write != nullptr) log_write(0, kLogMain, "%s", text.c_str());
}

// Exim strings may carry anything; keep what goes into a log line or a
// routing message printable and on one line.
std::string OneLine(const char* text) {
  std::string out;
  for (const char* p = text; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  return out;
}

const char* Arg(int argc, uschar* argv[], int i) {
  return i < argc && argv[i] != nullptr ? reinterpret_cast<const char*>(argv[i]) : "";
}

unsigned PortArg(const char* text) {
  unsigned port = 25;
  if (*text != '\0' && (!absl::SimpleAtoi(text, &port) || port == 0 || port > 65535)) port = 0;
  return port;
}

std::string Verdict(const danegate_answer& a) {
  return absl::StrCat("danegate ", a.action == DANEGATE_REJECT ? "reject" : "defer", " (",
                      OneLine(a.reason), "): ", OneLine(a.detail));
}

// The certificates received so far in one handshake, by depth.
struct PendingChain {
  std::string key;  // domain|host|port
  size_t last_depth = 0;
  std::vector<std::string> der;  // der[depth]
};
thread_local PendingChain pending;

}  // namespace

extern "C" int danegate_policy(uschar** yield, int argc, uschar* argv[]) {
  try {
    danegate_answer a;
    danegate_resolve_policy(Arg(argc, argv, 0), Arg(argc, argv, 1), 25, &a);
    std::string route;
    if (a.action == DANEGATE_REJECT) route = ":fail: " + Verdict(a);
    if (a.action != DANEGATE_DELIVER && a.action != DANEGATE_REJECT) route = ":defer: " + Verdict(a);
    std::replace(route.begin(), route.end(), '|', '/');  // '|' separates the fields
    return Yield(yield, route + "|" + (a.require_tls_hosts[0] != '\0' ? a.require_tls_hosts : "*"));
  } catch (...) {
    return Yield(yield, ":defer: danegate defer (plugin_error): exception in danegate_policy|*");
  }
}

extern "C" int danegate_verify(uschar** yield, int argc, uschar* argv[]) {
  try {
    const std::string domain = Arg(argc, argv, 1);
    const std::string host = Arg(argc, argv, 2);
    const unsigned port = PortArg(Arg(argc, argv, 3));
    size_t depth = 0;
    const char* cert_b64 = Arg(argc, argv, 5);
    if (!absl::SimpleAtoi(Arg(argc, argv, 4), &depth) || depth >= kMaxDepth || port == 0 ||
        std::strlen(cert_b64) > kMaxCertBase64) {
      return Yield(yield, "danegate defer (plugin_error): bad certificate event arguments");
    }
    std::string der;
    if (!absl::Base64Unescape(cert_b64, &der) || der.empty()) {
      return Yield(yield, "danegate defer (plugin_error): certificate is not base64 DER");
    }
    // Root first, leaf last: a depth not below the last one starts a chain.
    const std::string key = absl::StrCat(domain, "|", host, "|", port);
    if (pending.key != key || pending.der.empty() || depth >= pending.last_depth) {
      pending = PendingChain{key, depth, std::vector<std::string>(depth + 1)};
    }
    pending.der[depth] = std::move(der);
    pending.last_depth = depth;
    if (depth != 0) return Yield(yield, "");

    std::vector<const unsigned char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& cert : pending.der) {
      if (cert.empty()) {
        pending = PendingChain{};
        return Yield(yield, "danegate defer (plugin_error): incomplete certificate chain");
      }
      ptrs.push_back(reinterpret_cast<const unsigned char*>(cert.data()));
      lens.push_back(cert.size());
    }
    danegate_answer a;
    danegate_verify_peer(Arg(argc, argv, 0), domain.c_str(), host.c_str(), port, ptrs.data(),
                         lens.data(), ptrs.size(), &a);
    pending = PendingChain{};
    if (a.action == DANEGATE_DELIVER) {
      LogMain(absl::StrCat("danegate: ", OneLine(domain.c_str()), " via ", OneLine(host.c_str()),
                           ": ", OneLine(a.reason),
                           a.authenticated ? absl::StrCat(" TLSA ", a.matched_tlsa) : ""));
      return Yield(yield, "");
    }
    const std::string verdict = Verdict(a);
    LogMain(absl::StrCat("danegate: ", OneLine(domain.c_str()), " via ", OneLine(host.c_str()),
                         ": ", verdict));
    return Yield(yield, verdict);
  } catch (...) {
    pending = PendingChain{};
    return Yield(yield, "danegate defer (plugin_error): exception in danegate_verify");
  }
}
