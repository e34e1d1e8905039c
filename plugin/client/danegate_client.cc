// The danegate C client: configuration files, a cached gRPC channel per
// configuration (dropped before fork), and the translation of answers and
// failures into struct danegate_answer. Every failure becomes DEFER.
#include "plugin/client/danegate_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "danegate/v1/validator.pb.h"
#include "grpcpp/channel.h"
#include "service/api/remote.h"
#include "service/common/file.h"

namespace danegate::client {
namespace {

namespace v1 = ::danegate::v1;

constexpr size_t kMaxChainCertificates = 16;
constexpr size_t kMaxCertificateSize = 64 * 1024;

struct Config {
  api::RemoteOptions remote{.timeout = absl::Milliseconds(2000)};
  // Ask in this process on a channel kept between calls. Only for processes
  // that never fork after a call. Otherwise each call runs in a child process
  // (see Isolated): gRPC 1.51 can neither be forked reliably while it has
  // work in flight (grpc_prefork may wait forever) nor be restarted in one
  // process (calls after grpc_shutdown may never complete).
  bool keep_channel = false;
};

struct Connection {
  Config config;
  std::shared_ptr<grpc::Channel> channel;  // null until first use after fork
};

absl::Mutex mu;
std::map<std::string, Connection>* connections ABSL_GUARDED_BY(mu) =
    new std::map<std::string, Connection>;  // never destroyed: plugins are never unloaded

absl::StatusOr<Config> ParseConfig(const std::string& path) {
  absl::StatusOr<std::string> text = common::ReadFileBounded(path, 64 * 1024);
  if (!text.ok()) return text.status();
  Config config;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": want key = value"));
    }
    const std::string key(absl::StripAsciiWhitespace(line.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (key == "server") {
      config.remote.server = value;
    } else if (key == "tls_ca") {
      config.remote.ca_file = value;
    } else if (key == "tls_cert") {
      config.remote.cert_file = value;
    } else if (key == "tls_key") {
      config.remote.key_file = value;
    } else if (key == "tls_server_name") {
      config.remote.server_name = value;
    } else if (key == "keep_channel") {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number,
                                                       ": keep_channel must be true or false"));
      }
      config.keep_channel = value == "true";
    } else if (key == "timeout_ms") {
      int timeout_ms = 0;
      if (!absl::SimpleAtoi(value, &timeout_ms) || timeout_ms < 1 || timeout_ms > 600000) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number,
                                                       ": timeout_ms must be 1..600000"));
      }
      config.remote.timeout = absl::Milliseconds(timeout_ms);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": unknown key '",
                                                     key, "'"));
    }
  }
  if (config.remote.server.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no server"));
  return config;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& path,
                                                           const Config& c) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      api::ConnectValidator(c.remote, {.ca = "tls_ca", .cert = "tls_cert", .key = "tls_key"});
  if (!channel.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", channel.status().message()));
  }
  return channel;
}

// Returns the entry for `path`, parsing its configuration on first use.
absl::StatusOr<Connection*> EntryFor(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
  auto it = connections->find(path);
  if (it == connections->end()) {
    absl::StatusOr<Config> config = ParseConfig(path);
    if (!config.ok()) return config.status();
    it = connections->emplace(path, Connection{*std::move(config), nullptr}).first;
  }
  return &it->second;
}

// Returns the configuration of `path` (parsed once per process).
absl::StatusOr<Config> ConfigFor(const std::string& path) {
  absl::MutexLock lock(&mu);
  absl::StatusOr<Connection*> entry = EntryFor(path);
  if (!entry.ok()) return entry.status();
  return (*entry)->config;
}

// Returns the channel and deadline for `path`, building them if needed.
absl::StatusOr<std::pair<std::shared_ptr<grpc::Channel>, absl::Duration>> ChannelFor(
    const std::string& path) {
  absl::MutexLock lock(&mu);
  absl::StatusOr<Connection*> entry = EntryFor(path);
  if (!entry.ok()) return entry.status();
  if ((*entry)->channel == nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(path, (*entry)->config);
    if (!channel.ok()) return channel.status();
    (*entry)->channel = *std::move(channel);
  }
  return std::make_pair((*entry)->channel, (*entry)->config.remote.timeout);
}

void Copy(char* dst, size_t size, absl::string_view src) {
  const size_t n = std::min(size - 1, src.size());
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

std::string Token(const std::string& enum_name, absl::string_view prefix) {
  absl::string_view name = enum_name;
  absl::ConsumePrefix(&name, prefix);
  return absl::AsciiStrToLower(name);
}

// Fills `out` with a DEFER that did not come from the validator.
int Defer(danegate_answer* out, absl::string_view reason, absl::string_view detail) {
  std::memset(out, 0, sizeof *out);
  out->action = DANEGATE_DEFER;
  Copy(out->reason, sizeof out->reason, reason);
  Copy(out->detail, sizeof out->detail, detail);
  Copy(out->require_tls_hosts, sizeof out->require_tls_hosts, "*");
  return -1;
}

int DeferFromStatus(danegate_answer* out, const absl::Status& status) {
  return Defer(out, "plugin_error", status.message());
}

// A DEFER for a call that failed: the service refused the question, or
// could not be asked.
int DeferFromCall(danegate_answer* out, const absl::Status& status) {
  const char* reason = "validator_unavailable";
  if (absl::IsInvalidArgument(status)) reason = "invalid_argument";
  return Defer(out, reason,
               absl::StrCat("danegated: ", absl::StatusCodeToString(status.code()), " ",
                            status.message()));
}

// Fills action/reason/detail from a response; false if it is malformed.
bool FillCommon(v1::Action action, v1::Reason reason, const std::string& detail,
                danegate_answer* out) {
  std::memset(out, 0, sizeof *out);
  out->from_service = 1;
  switch (action) {
    case v1::ACTION_DELIVER: out->action = DANEGATE_DELIVER; break;
    case v1::ACTION_DEFER: out->action = DANEGATE_DEFER; break;
    case v1::ACTION_REJECT: out->action = DANEGATE_REJECT; break;
    default: return false;
  }
  Copy(out->reason, sizeof out->reason, Token(v1::Reason_Name(reason), "REASON_"));
  Copy(out->detail, sizeof out->detail, detail);
  return true;
}

std::string TlsaText(const v1::TlsaRecord& r) {
  return absl::StrCat(r.usage(), " ", r.selector(), " ", r.matching_type(), " ",
                      absl::BytesToHexString(r.data()));
}

// Makes one call on the channel configured at `config_path`, with its
// deadline. Returns true with `out` holding the common fields of a
// well-formed answer; false with `out` holding a DEFER otherwise.
template <typename Request, typename Response>
bool Ask(const char* config_path, const Request& request,
         absl::StatusOr<Response> (*remote)(const std::shared_ptr<grpc::Channel>&,
                                            absl::Duration, const Request&),
         Response* response, danegate_answer* out) {
  auto channel = ChannelFor(config_path);
  if (!channel.ok()) {
    DeferFromStatus(out, channel.status());
    return false;
  }
  absl::StatusOr<Response> answer = remote(channel->first, channel->second, request);
  if (!answer.ok()) {
    DeferFromCall(out, answer.status());
    return false;
  }
  *response = *std::move(answer);
  if (!FillCommon(response->action(), response->reason(), response->detail(), out)) {
    Defer(out, "malformed_answer", "danegated answered with no action");
    return false;
  }
  return true;
}

int ResolvePolicy(const char* config_path, const char* domain, unsigned port,
                  danegate_answer* out) {
  if (config_path == nullptr || domain == nullptr) return Defer(out, "plugin_error", "null argument");
  v1::ResolvePolicyRequest request;
  request.set_domain(domain);
  request.set_port(port);
  v1::ResolvePolicyResponse response;
  if (!Ask(config_path, request, &api::RemoteResolvePolicy, &response, out)) return -1;
  // Every host needs TLS except those the policy lets go without it; a
  // host unknown to the policy needs TLS too (fail closed).
  std::vector<std::string> items;
  if (out->action == DANEGATE_DELIVER) {
    for (const v1::MxHost& host : response.mx()) {
      if (host.tls() == v1::TLS_MODE_OPPORTUNISTIC) items.push_back("! " + host.host());
    }
  }
  items.push_back("*");
  const std::string hosts = absl::StrJoin(items, " : ");
  if (hosts.size() >= sizeof out->require_tls_hosts) {
    Copy(out->require_tls_hosts, sizeof out->require_tls_hosts, "*");
  } else {
    Copy(out->require_tls_hosts, sizeof out->require_tls_hosts, hosts);
  }
  return 0;
}

int VerifyPeer(const char* config_path, const char* domain, const char* mx_host, unsigned port,
               const unsigned char* const* der, const size_t* der_len, size_t count,
               danegate_answer* out) {
  if (config_path == nullptr || domain == nullptr || mx_host == nullptr ||
      (count > 0 && (der == nullptr || der_len == nullptr))) {
    return Defer(out, "plugin_error", "null argument");
  }
  // The same limits the service applies, checked before anything is copied.
  if (count == 0 || count > kMaxChainCertificates) {
    return Defer(out, "plugin_error",
                 absl::StrCat("chain has ", count, " certificates; 1..", kMaxChainCertificates,
                              " allowed"));
  }
  for (size_t i = 0; i < count; ++i) {
    if (der[i] == nullptr || der_len[i] == 0 || der_len[i] > kMaxCertificateSize) {
      return Defer(out, "plugin_error",
                   absl::StrCat("chain[", i, "]: empty or over ", kMaxCertificateSize, " bytes"));
    }
  }
  v1::VerifyPeerRequest request;
  request.set_domain(domain);
  request.set_mx_host(mx_host);
  request.set_port(port);
  for (size_t i = 0; i < count; ++i) {
    request.add_chain(reinterpret_cast<const char*>(der[i]), der_len[i]);
  }
  v1::VerifyPeerResponse response;
  if (!Ask(config_path, request, &api::RemoteVerifyPeer, &response, out)) return -1;
  out->authenticated = response.authenticated() ? 1 : 0;
  if (response.has_matched_tlsa()) {
    Copy(out->matched_tlsa, sizeof out->matched_tlsa, TlsaText(response.matched_tlsa()));
  }
  return 0;
}

// Runs `ask` in a child process and returns its answer: the calling process
// never starts gRPC, so it may fork at any time (Exim forks to log and for
// every transport). The child writes the fixed-size answer to a pipe and
// exits; the parent waits at most the call's deadline plus a margin for the
// child to start gRPC, then kills it. Always reaps the child.
template <typename Ask>
int Isolated(const Config& config, danegate_answer* out, Ask ask) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Defer(out, "plugin_error", "pipe failed");
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Defer(out, "plugin_error", "fork failed");
  }
  if (pid == 0) {
    close(fds[0]);
    danegate_answer answer;
    try {
      ask(&answer);
    } catch (...) {
      Defer(&answer, "plugin_error", "exception in the validator call");
    }
    const char* p = reinterpret_cast<const char*>(&answer);
    size_t left = sizeof answer;
    while (left > 0) {
      const ssize_t n = write(fds[1], p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
    _exit(0);  // no atexit handlers, no flushing of the host's buffers
  }
  close(fds[1]);
  danegate_answer answer;
  char* p = reinterpret_cast<char*>(&answer);
  size_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() +
                        absl::ToChronoMilliseconds(config.remote.timeout + absl::Seconds(3));
  while (got < sizeof answer) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t n = read(fds[0], p + got, sizeof answer - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  if (got < sizeof answer) kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (got < sizeof answer) {
    return Defer(out, "validator_unavailable", "the validator call did not complete in time");
  }
  answer.reason[sizeof answer.reason - 1] = '\0';
  answer.detail[sizeof answer.detail - 1] = '\0';
  answer.matched_tlsa[sizeof answer.matched_tlsa - 1] = '\0';
  answer.require_tls_hosts[sizeof answer.require_tls_hosts - 1] = '\0';
  *out = answer;
  return out->from_service ? 0 : -1;
}

// Asks in this process (keep_channel) or in a child (the default).
template <typename Ask>
int Dispatch(const char* config_path, danegate_answer* out, Ask ask) {
  if (config_path == nullptr) return Defer(out, "plugin_error", "null argument");
  absl::StatusOr<Config> config = ConfigFor(config_path);
  if (!config.ok()) return DeferFromStatus(out, config.status());
  if (config->keep_channel) return ask(out);
  return Isolated(*config, out, ask);
}

}  // namespace
}  // namespace danegate::client

extern "C" int danegate_resolve_policy(const char* config_path, const char* domain,
                                       unsigned port, struct danegate_answer* out) {
  try {
    return danegate::client::Dispatch(config_path, out, [&](danegate_answer* answer) {
      return danegate::client::ResolvePolicy(config_path, domain, port, answer);
    });
  } catch (const std::exception& e) {
    return danegate::client::Defer(out, "plugin_error", e.what());
  } catch (...) {
    return danegate::client::Defer(out, "plugin_error", "unknown exception");
  }
}

extern "C" int danegate_verify_peer(const char* config_path, const char* domain,
                                    const char* mx_host, unsigned port,
                                    const unsigned char* const* der, const size_t* der_len,
                                    size_t count, struct danegate_answer* out) {
  try {
    return danegate::client::Dispatch(config_path, out, [&](danegate_answer* answer) {
      return danegate::client::VerifyPeer(config_path, domain, mx_host, port, der, der_len,
                                          count, answer);
    });
  } catch (const std::exception& e) {
    return danegate::client::Defer(out, "plugin_error", e.what());
  } catch (...) {
    return danegate::client::Defer(out, "plugin_error", "unknown exception");
  }
}
