// danegate: ask the DANE engine how to deliver to a domain, whether a peer's
// chain may carry mail, or match a chain against given TLSA records offline.
// Exit status: 0 deliver, 75 defer, 69 reject, 64 usage, 65 bad input data,
// 70 internal error.
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/api/convert.h"
#include "service/api/remote.h"
#include "service/cli/render.h"
#include "service/common/flags.h"
#include "service/dns/name.h"
#include "service/dns/resolver_flags.h"
#include "service/dns/validating_resolver.h"
#include "service/common/version.h"
#include "service/engine/dane_engine.h"
#include "service/tlsa/chain.h"
#include "service/tlsa/matcher.h"

namespace danegate::cli {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitData = 65;
constexpr int kExitInternal = 70;
constexpr int kExitTempFail = 75;

constexpr char kOverview[] =
    "usage: danegate COMMAND [options]\n"
    "\n"
    "DANE (RFC 7672) decisions for SMTP delivery.\n"
    "\n"
    "commands:\n"
    "  policy DOMAIN                      how to deliver to DOMAIN (ResolvePolicy)\n"
    "  verify DOMAIN --mx HOST --chain F  may a TLS session with HOST presenting\n"
    "                                     the chain in F carry mail (VerifyPeer)\n"
    "  match --tlsa REC --chain F --name HOST\n"
    "                                     match a chain against given TLSA records,\n"
    "                                     no DNS\n"
    "\n"
    "'danegate COMMAND --help' lists a command's options.\n"
    "exit status: 0 deliver, 75 defer, 69 reject, 64 usage, 65 bad input, 70 internal\n";

struct Options {
  bool local = false;
  bool json = false;
  dns::ResolverFlagValues resolver;
  std::string insecure_mx = "dane";
  api::RemoteOptions remote;
  std::string timeout = "10s";
  std::string port = "25";
  std::string mx;
  std::string chain;
  std::string name;
  std::vector<std::string> tlsa;
};

// A failure with the exit status it maps to.
struct Failure {
  int status;
  std::string message;
};

absl::StatusOr<uint32_t> PortFrom(const Options& o) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(o.port, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--port '", o.port, "': want 1..65535"));
  }
  return port;
}

// The in-process engine with its real resolver and matcher.
struct LocalEngine {
  std::unique_ptr<dns::Resolver> resolver;
  std::unique_ptr<tlsa::DaneMatcher> matcher;
  std::unique_ptr<engine::DaneEngine> engine;
};

absl::StatusOr<LocalEngine> MakeLocalEngine(const Options& o) {
  absl::StatusOr<dns::ResolverConfig> config = dns::ResolverConfigFrom(o.resolver);
  if (!config.ok()) return config.status();
  absl::StatusOr<policy::InsecureMxPolicy> insecure_mx =
      policy::ParseInsecureMxPolicy("--insecure-mx-policy", o.insecure_mx);
  if (!insecure_mx.ok()) return insecure_mx.status();
  LocalEngine local;
  absl::StatusOr<dns::ValidatingResolver> resolver = dns::MakeValidatingResolver(*config);
  if (!resolver.ok()) return resolver.status();
  absl::StatusOr<std::unique_ptr<tlsa::DaneMatcher>> matcher = tlsa::DaneMatcher::Create();
  if (!matcher.ok()) return matcher.status();
  local.resolver = std::move(resolver->resolver);
  local.matcher = *std::move(matcher);
  local.engine = std::make_unique<engine::DaneEngine>(*local.resolver, *local.matcher,
                                                      engine::Options{*insecure_mx});
  return local;
}

// Starts an asynchronous engine call and blocks until its callback delivers.
template <typename Result, typename StartFn>
Result Await(StartFn start) {
  absl::Notification done;
  Result result;
  start([&](Result r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

// Maps a failure to an exit status: bad input is 65; a validator that
// cannot answer (unreachable, too slow, refusing us) is 75, so a caller
// defers rather than delivers; anything else is internal.
Failure FailureFrom(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return {kExitData, std::string(status.message())};
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kCancelled:
      return {kExitTempFail, absl::StrCat("validator did not answer (",
                                          absl::StatusCodeToString(status.code()),
                                          "): ", status.message())};
    default:
      return {kExitInternal, std::string(status.message())};
  }
}

int Emit(const Options& o, const std::string& json, const std::string& text, v1::Action action) {
  std::cout << (o.json ? json + "\n" : text);
  std::cout.flush();
  return ExitStatus(action);
}

// Answers a request in this process with the engine.
absl::StatusOr<v1::ResolvePolicyResponse> LocalResolvePolicy(
    const Options& o, const v1::ResolvePolicyRequest& request) {
  absl::StatusOr<api::PolicyQuery> query = api::ValidateRequest(request);
  if (!query.ok()) return query.status();
  absl::StatusOr<LocalEngine> local = MakeLocalEngine(o);
  if (!local.ok()) return local.status();
  return api::ToProto(Await<policy::DomainPolicy>([&](auto done) {
    local->engine->ResolvePolicy(query->domain, query->port, std::move(done));
  }));
}

absl::StatusOr<v1::VerifyPeerResponse> LocalVerifyPeer(const Options& o,
                                                       const v1::VerifyPeerRequest& request) {
  absl::StatusOr<api::PeerQuery> query = api::ValidateRequest(request);
  if (!query.ok()) return query.status();
  absl::StatusOr<LocalEngine> local = MakeLocalEngine(o);
  if (!local.ok()) return local.status();
  return api::ToProto(Await<policy::PeerVerdict>([&](auto done) {
    local->engine->VerifyPeer(query->domain, query->mx_host, query->port, std::move(query->chain),
                              std::move(done));
  }));
}

// Asks the --server with `ask` (api::RemoteResolvePolicy or RemoteVerifyPeer).
template <typename Request, typename Ask>
auto Remote(const Options& o, const Request& request, Ask ask)
    -> decltype(ask(std::shared_ptr<grpc::Channel>(), absl::Duration(), request)) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = api::ConnectValidator(o.remote);
  if (!channel.ok()) return channel.status();
  return ask(*channel, o.remote.timeout, request);
}

absl::StatusOr<int> RunPolicy(const Options& o, const std::vector<std::string>& args) {
  v1::ResolvePolicyRequest request;
  request.set_domain(args[0]);
  absl::StatusOr<uint32_t> port = PortFrom(o);
  if (!port.ok()) return port.status();
  request.set_port(*port);
  absl::StatusOr<v1::ResolvePolicyResponse> response =
      o.local ? LocalResolvePolicy(o, request) : Remote(o, request, api::RemoteResolvePolicy);
  if (!response.ok()) return response.status();
  return Emit(o, PolicyJson(*response), PolicyText(*response), response->action());
}

absl::StatusOr<int> RunVerify(const Options& o, const std::vector<std::string>& args) {
  absl::StatusOr<tlsa::DerChain> chain = tlsa::ReadPemChain(o.chain);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<uint32_t> port = PortFrom(o);
  if (!port.ok()) return port.status();
  v1::VerifyPeerRequest request;
  request.set_domain(args[0]);
  request.set_mx_host(o.mx);
  request.set_port(*port);
  for (std::string& der : *chain) request.add_chain(std::move(der));
  absl::StatusOr<v1::VerifyPeerResponse> response =
      o.local ? LocalVerifyPeer(o, request) : Remote(o, request, api::RemoteVerifyPeer);
  if (!response.ok()) return response.status();
  return Emit(o, VerdictJson(*response), VerdictText(*response), response->action());
}

absl::StatusOr<int> RunMatch(const Options& o) {
  absl::StatusOr<std::string> name = dns::CanonicalMailName(o.name, "--name");
  if (!name.ok()) return name.status();
  absl::StatusOr<uint32_t> port = PortFrom(o);
  if (!port.ok()) return port.status();
  std::vector<tlsa::TlsaRecord> records;
  for (const std::string& text : o.tlsa) {
    absl::StatusOr<tlsa::TlsaRecord> record = tlsa::ParseTlsaText(text);
    if (!record.ok()) return record.status();
    records.push_back(*std::move(record));
  }
  absl::StatusOr<tlsa::DerChain> chain = tlsa::ReadPemChain(o.chain);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::unique_ptr<tlsa::DaneMatcher>> matcher = tlsa::DaneMatcher::Create();
  if (!matcher.ok()) return matcher.status();
  const v1::VerifyPeerResponse response = api::ToProto(engine::MatchOffline(
      **matcher, *name, static_cast<uint16_t>(*port), std::move(records), *chain));
  return Emit(o, VerdictJson(response), VerdictText(response), response.action());
}

struct Command {
  const char* name;
  const char* usage;
  const char* summary;
};

constexpr Command kCommands[] = {
    {"policy", "danegate policy (--server=HOST:PORT | --local) [options] DOMAIN",
     "Prints how to deliver to DOMAIN: its MX hosts in order, each with its DNSSEC\n"
     "status, TLSA records and TLS mode (dane, mandatory, opportunistic,\n"
     "unreachable), and the action for the domain (deliver, defer, reject)."},
    {"verify", "danegate verify (--server=HOST:PORT | --local) [options] DOMAIN --mx HOST --chain FILE.pem",
     "Prints whether a TLS session with MX host HOST that presented the PEM chain\n"
     "in FILE (leaf first) may carry mail for DOMAIN."},
    {"match", "danegate match --tlsa \"U S M HEX\" [--tlsa ...] --chain FILE.pem --name HOST",
     "Matches the PEM chain in FILE against the given TLSA records, taken as\n"
     "DNSSEC-validated for HOST (the TLSA base domain). No DNS is used."},
};

int Run(const std::vector<std::string>& argv) {
  if (argv.size() < 2) {
    std::cerr << kOverview;
    return kExitUsage;
  }
  const std::string& verb = argv[1];
  if (verb == "--version") {
    std::cout << "danegate " << common::kVersion << "\n";
    return 0;
  }
  if (verb == "-h" || verb == "--help" || verb == "help") {
    std::cout << kOverview;
    return 0;
  }
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (verb == c.name) command = &c;
  }
  if (command == nullptr) {
    std::cerr << "danegate: unknown command '" << verb << "'\n" << kOverview;
    return kExitUsage;
  }

  Options o;
  common::FlagSet flags;
  flags.Bool("json", &o.json, "print one JSON object instead of a report");
  flags.String("port", &o.port, "PORT", "SMTP port for the TLSA lookup (default 25)");
  const std::string verb_name = command->name;
  if (verb_name != "match") {
    flags.String("server", &o.remote.server, "HOST:PORT", "ask this danegated");
    flags.String("tls-ca", &o.remote.ca_file, "FILE",
                 "CA (PEM) that verifies the server's certificate; enables TLS");
    flags.String("tls-cert", &o.remote.cert_file, "FILE", "client certificate (PEM), mutual TLS");
    flags.String("tls-key", &o.remote.key_file, "FILE", "private key of --tls-cert (PEM)");
    flags.String("tls-server-name", &o.remote.server_name, "NAME",
                 "name expected in the server's certificate (default: the HOST of --server)");
    flags.String("timeout", &o.timeout, "DURATION", "deadline of the call (default 10s)");
    flags.Bool("local", &o.local, "run the engine in this process instead (no danegated)");
    dns::AddResolverFlags(flags, o.resolver);
    flags.String("insecure-mx-policy", &o.insecure_mx, "dane|may",
                 "--local: hosts behind an insecure MX RRset get DANE from their own secure "
                 "records (dane, the default) or never (may)");
  }
  if (verb_name == "verify") {
    flags.String("mx", &o.mx, "HOST", "the MX host the session is with");
  }
  if (verb_name != "policy") {
    flags.String("chain", &o.chain, "FILE.pem", "the peer's certificates, leaf first");
  }
  if (verb_name == "match") {
    flags.Repeated("tlsa", &o.tlsa, "\"U S M HEX\"", "a TLSA record");
    flags.String("name", &o.name, "HOST", "the TLSA base domain (the server's name)");
  }

  auto usage_error = [&](const std::string& message) {
    std::cerr << "danegate " << command->name << ": " << message << "\nusage: " << command->usage
              << "\nTry 'danegate " << command->name << " --help'.\n";
    return kExitUsage;
  };
  absl::StatusOr<std::vector<std::string>> args =
      flags.Parse(std::vector<std::string>(argv.begin() + 2, argv.end()));
  if (!args.ok()) return usage_error(std::string(args.status().message()));
  if (flags.version_requested()) {
    std::cout << "danegate " << common::kVersion << "\n";
    return 0;
  }
  if (flags.help_requested()) {
    std::cout << "usage: " << command->usage << "\n\n" << command->summary << "\n\noptions:\n"
              << flags.Help();
    return 0;
  }

  const size_t want_args = verb_name == "match" ? 0 : 1;
  if (args->size() != want_args) {
    return usage_error(want_args == 0 ? "takes no positional argument"
                                      : "needs exactly one DOMAIN");
  }
  if (verb_name == "verify" && (o.mx.empty() || o.chain.empty())) {
    return usage_error("needs --mx and --chain");
  }
  if (verb_name == "match" && (o.tlsa.empty() || o.chain.empty() || o.name.empty())) {
    return usage_error("needs --tlsa, --chain and --name");
  }
  if (verb_name != "match" && o.local == !o.remote.server.empty()) {
    return usage_error("give either --server=HOST:PORT or --local");
  }
  if (!absl::ParseDuration(o.timeout, &o.remote.timeout) ||
      o.remote.timeout <= absl::ZeroDuration()) {
    return usage_error(absl::StrCat("--timeout '", o.timeout, "': want a duration such as 5s"));
  }
  // Bad flag values are usage errors, caught before any lookup.
  if (absl::StatusOr<uint32_t> port = PortFrom(o); !port.ok()) {
    return usage_error(std::string(port.status().message()));
  }
  if (verb_name != "match") {
    if (absl::StatusOr<dns::ResolverConfig> config = dns::ResolverConfigFrom(o.resolver);
        !config.ok()) {
      return usage_error(std::string(config.status().message()));
    }
  }

  absl::StatusOr<int> status = verb_name == "policy"   ? RunPolicy(o, *args)
                               : verb_name == "verify" ? RunVerify(o, *args)
                                                       : RunMatch(o);
  if (!status.ok()) {
    Failure failure = FailureFrom(status.status());
    std::cerr << "danegate " << command->name << ": " << failure.message << "\n";
    return failure.status;
  }
  return *status;
}

}  // namespace
}  // namespace danegate::cli

int main(int argc, char** argv) {
  try {
    return danegate::cli::Run(std::vector<std::string>(argv, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "danegate: internal error: " << e.what() << "\n";
    return 70;
  }
}
