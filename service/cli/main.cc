// danegate: ask the DANE engine how to deliver to a domain, whether a peer's
// chain may carry mail, or match a chain against given TLSA records offline.
// Exit status: 0 deliver, 75 defer, 69 reject, 64 usage, 65 bad input data,
// 70 internal error.
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/api/convert.h"
#include "service/api/remote.h"
#include "service/cli/probe.h"
#include "service/cli/render.h"
#include "service/cli/rollover.h"
#include "service/common/flags.h"
#include "service/common/json.h"
#include "service/common/socket_address.h"
#include "service/common/thread_pool.h"
#include "service/common/version.h"
#include "service/dns/dispatching_resolver.h"
#include "service/dns/name.h"
#include "service/dns/resolver_flags.h"
#include "service/dns/validating_resolver.h"
#include "service/engine/dane_engine.h"
#include "service/smtp/starttls_client.h"
#include "service/tlsa/association.h"
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
    "  rollover DOMAIN --next F           is deploying the certificate or key in F\n"
    "                                     now safe for DOMAIN's DANE hosts?\n"
    "  probe DOMAIN                       what a sending MTA meets now: STARTTLS\n"
    "                                     to every MX address, the verdict on each\n"
    "  tlsa (--cert F | --host HOST) [--name HOST]\n"
    "                                     the TLSA record to publish for a\n"
    "                                     certificate, chain, key or live server\n"
    "\n"
    "'danegate COMMAND --help' lists a command's options.\n"
    "exit status: 0 deliver, 75 defer, 69 reject, 64 usage, 65 bad input, 70 internal\n";

struct Options {
  bool local = false;
  bool json = false;
  dns::ResolverFlagValues resolver;
  std::string insecure_mx = "dane";
  api::RemoteOptions remote;
  size_t port = 25;
  std::string mx;
  std::string chain;
  std::string name;
  std::vector<std::string> tlsa;
  // rollover: the next and current server material.
  std::string next, current;
  size_t warn_days = 7;
  // probe (and tlsa --host): the SMTP sessions.
  absl::Duration host_deadline = absl::Seconds(20);
  std::string helo_name = "localhost";
  // tlsa: what to publish.
  std::string cert;
  std::string host;  // tlsa --host: take what a live server presents
  std::string usage = "3", selector = "1", mtype = "1", depth;
};

// A failure with the exit status it maps to.
struct Failure {
  int status;
  std::string message;
};

uint16_t PortFrom(const Options& o) { return static_cast<uint16_t>(o.port); }

// The in-process engine with its real resolver and matcher; answers are
// handed from the resolver's thread to a worker, as in danegated. Members
// are destroyed bottom up: the workers finish before the resolver goes.
struct LocalEngine {
  std::unique_ptr<dns::Resolver> resolver;
  std::unique_ptr<common::ThreadPool> worker;
  std::unique_ptr<dns::DispatchingResolver> dispatched;
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
  local.worker = common::ThreadPool::Create(1, "danegate-work");
  local.dispatched = std::make_unique<dns::DispatchingResolver>(*local.resolver, *local.worker);
  local.matcher = *std::move(matcher);
  local.engine = std::make_unique<engine::DaneEngine>(*local.dispatched, *local.matcher,
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
Failure FailureFrom(const absl::Status& status, absl::string_view who) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return {kExitData, std::string(status.message())};
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kCancelled:
      return {kExitTempFail,
              absl::StrCat(who, " did not answer (", absl::StatusCodeToString(status.code()),
                           "): ", status.message())};
    default: return {kExitInternal, std::string(status.message())};
  }
}

int Emit(const Options& o, const std::string& json, const std::string& text, v1::Action action) {
  std::cout << (o.json ? json + "\n" : text);
  std::cout.flush();
  return ExitStatus(action);
}

// Answers ResolvePolicy and VerifyPeer: the engine in this process
// (--local, one engine for every call of the command) or a danegated
// (--server).
class Validator {
 public:
  static absl::StatusOr<Validator> Connect(const Options& o) {
    Validator validator;
    validator.timeout_ = o.remote.timeout;
    if (o.local) {
      absl::StatusOr<LocalEngine> local = MakeLocalEngine(o);
      if (!local.ok()) return local.status();
      validator.local_ = std::make_unique<LocalEngine>(*std::move(local));
    } else {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = api::ConnectValidator(o.remote);
      if (!channel.ok()) return channel.status();
      validator.channel_ = *std::move(channel);
    }
    return validator;
  }

  absl::StatusOr<v1::ResolvePolicyResponse> ResolvePolicy(
      const v1::ResolvePolicyRequest& request) const {
    if (local_ == nullptr) return api::RemoteResolvePolicy(channel_, timeout_, request);
    absl::StatusOr<api::PolicyQuery> query = api::ValidateRequest(request);
    if (!query.ok()) return query.status();
    return api::ToProto(Await<policy::DomainPolicy>([&](auto done) {
      local_->engine->ResolvePolicy(query->domain, query->port, std::move(done));
    }));
  }

  absl::StatusOr<v1::VerifyPeerResponse> VerifyPeer(const v1::VerifyPeerRequest& request) const {
    if (local_ == nullptr) return api::RemoteVerifyPeer(channel_, timeout_, request);
    absl::StatusOr<api::PeerQuery> query = api::ValidateRequest(request);
    if (!query.ok()) return query.status();
    return api::ToProto(Await<policy::PeerVerdict>([&](auto done) {
      local_->engine->VerifyPeer(query->domain, query->mx_host, query->port,
                                 std::move(query->chain), std::move(done));
    }));
  }

 private:
  std::unique_ptr<LocalEngine> local_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
};

// Asks the policy of `domain` on --port.
absl::StatusOr<v1::ResolvePolicyResponse> FetchPolicy(const Options& o, const Validator& validator,
                                                      const std::string& domain) {
  v1::ResolvePolicyRequest request;
  request.set_domain(domain);
  const uint16_t port = PortFrom(o);
  request.set_port(port);
  return validator.ResolvePolicy(request);
}

absl::StatusOr<int> RunPolicy(const Options& o, const std::vector<std::string>& args) {
  absl::StatusOr<Validator> validator = Validator::Connect(o);
  if (!validator.ok()) return validator.status();
  absl::StatusOr<v1::ResolvePolicyResponse> response = FetchPolicy(o, *validator, args[0]);
  if (!response.ok()) return response.status();
  return Emit(o, PolicyJson(*response), PolicyText(*response), response->action());
}

absl::StatusOr<int> RunRollover(const Options& o, const std::vector<std::string>& args) {
  std::optional<ServerMaterial> next, current;
  for (const auto& [flag, path, out] :
       {std::tuple{"--next", &o.next, &next}, std::tuple{"--current", &o.current, &current}}) {
    if (path->empty()) continue;
    absl::StatusOr<ServerMaterial> material = ReadServerMaterial(flag, *path);
    if (!material.ok()) return material.status();
    *out = *std::move(material);
  }
  absl::StatusOr<Validator> validator = Validator::Connect(o);
  if (!validator.ok()) return validator.status();
  absl::StatusOr<v1::ResolvePolicyResponse> policy = FetchPolicy(o, *validator, args[0]);
  if (!policy.ok()) return policy.status();
  const Rollover got =
      CheckRollover(*policy, next ? &*next : nullptr, current ? &*current : nullptr, absl::Now(),
                    absl::Hours(24) * static_cast<int>(o.warn_days));
  std::cout << (o.json ? RolloverJson(policy->domain(), got) + "\n"
                       : RolloverText(policy->domain(), got));
  std::cout.flush();
  return got.safe ? 0 : kExitTempFail;
}

absl::StatusOr<int> RunProbe(const Options& o, const std::vector<std::string>& args) {
  absl::StatusOr<Validator> validator = Validator::Connect(o);
  if (!validator.ok()) return validator.status();
  absl::StatusOr<v1::ResolvePolicyResponse> policy = FetchPolicy(o, *validator, args[0]);
  if (!policy.ok()) return policy.status();
  const uint16_t port = PortFrom(o);
  const Probe probe = ProbeDomain(
      *policy, port, o.host_deadline,
      {.start_tls =
           [&](const std::string& address, const std::string& sni, absl::Time deadline) {
             absl::StatusOr<common::SocketAddress> parsed =
                 common::ParseSocketAddress("address", address);
             if (!parsed.ok()) {
               return smtp::Session{.failure = smtp::Failure::kConnect,
                                    .error = std::string(parsed.status().message())};
             }
             return smtp::StartTls(*parsed, sni, o.helo_name, deadline);
           },
       .verify =
           [&](const v1::VerifyPeerRequest& request) { return validator->VerifyPeer(request); },
       .now = [] { return absl::Now(); }});
  const absl::Time now = absl::Now();
  std::cout << (o.json ? ProbeJson(probe, now) + "\n" : ProbeText(probe, now));
  std::cout.flush();
  return ExitStatus(probe.action);
}

absl::StatusOr<int> RunVerify(const Options& o, const std::vector<std::string>& args) {
  absl::StatusOr<tlsa::DerChain> chain = tlsa::ReadPemChain(o.chain);
  if (!chain.ok()) return chain.status();
  const uint16_t port = PortFrom(o);
  v1::VerifyPeerRequest request;
  request.set_domain(args[0]);
  request.set_mx_host(o.mx);
  request.set_port(port);
  for (std::string& der : *chain) request.add_chain(std::move(der));
  absl::StatusOr<Validator> validator = Validator::Connect(o);
  if (!validator.ok()) return validator.status();
  absl::StatusOr<v1::VerifyPeerResponse> response = validator->VerifyPeer(request);
  if (!response.ok()) return response.status();
  return Emit(o, VerdictJson(*response), VerdictText(*response), response->action());
}

absl::StatusOr<int> RunMatch(const Options& o) {
  absl::StatusOr<std::string> name = dns::CanonicalMailName(o.name, "--name");
  if (!name.ok()) return name.status();
  const uint16_t port = PortFrom(o);
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
  const v1::VerifyPeerResponse response =
      api::ToProto(engine::MatchOffline(**matcher, *name, port, std::move(records), *chain));
  return Emit(o, VerdictJson(response), VerdictText(response), response.action());
}

absl::StatusOr<uint8_t> FieldFrom(const std::string& flag, const std::string& text, uint8_t max) {
  uint32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "': want 0..", max));
  }
  return static_cast<uint8_t>(value);
}

// What --cert holds, or the chain --host presents after STARTTLS.
absl::StatusOr<ServerMaterial> MaterialToPublish(const Options& o) {
  if (o.host.empty()) return ReadServerMaterial("--cert", o.cert);
  absl::StatusOr<std::string> host = dns::CanonicalMailName(o.host, "--host");
  if (!host.ok()) return host.status();
  const uint16_t port = PortFrom(o);
  absl::StatusOr<tlsa::DerChain> chain = smtp::FetchStartTlsChain(
      *host, *host, {.port = port, .timeout = o.host_deadline, .helo_name = o.helo_name});
  if (!chain.ok()) return chain.status();
  return ServerMaterial{.chain = *std::move(chain)};
}

// The record to publish for the certificate, chain or key in --cert: the
// leaf for DANE-EE(3), for DANE-TA(2) the certificate at --depth (default
// 1, the issuer that signs the leaf), a key's SubjectPublicKeyInfo.
absl::StatusOr<tlsa::TlsaRecord> RecordToPublish(const Options& o) {
  absl::StatusOr<uint8_t> usage = FieldFrom("--usage", o.usage, 3);
  if (!usage.ok()) return usage.status();
  if (*usage != tlsa::kDaneTa && *usage != tlsa::kDaneEe) {
    return absl::InvalidArgumentError(
        "--usage: SMTP uses 2 (DANE-TA) and 3 (DANE-EE) only (RFC 7672 section 3.1.3)");
  }
  absl::StatusOr<uint8_t> selector = FieldFrom("--selector", o.selector, 1);
  if (!selector.ok()) return selector.status();
  absl::StatusOr<uint8_t> mtype = FieldFrom("--mtype", o.mtype, 2);
  if (!mtype.ok()) return mtype.status();
  absl::StatusOr<ServerMaterial> material = MaterialToPublish(o);
  if (!material.ok()) return material.status();
  tlsa::TlsaRecord record{*usage, *selector, *mtype, ""};
  if (material->chain.empty()) {  // a key
    if (*selector != tlsa::kSpki) {
      return absl::InvalidArgumentError(
          "--cert holds a key: --selector 1 (SubjectPublicKeyInfo) only");
    }
    absl::StatusOr<std::string> data = tlsa::MatchingData(material->spki, *mtype);
    if (!data.ok()) return data.status();
    record.data = *std::move(data);
    return record;
  }
  const tlsa::DerChain& chain = material->chain;
  const std::string default_depth = *usage == tlsa::kDaneEe ? "0" : "1";
  absl::StatusOr<uint8_t> depth =
      FieldFrom("--depth", o.depth.empty() ? default_depth : o.depth, tlsa::kMaxChainCertificates);
  if (!depth.ok()) return depth.status();
  if (*usage == tlsa::kDaneEe && *depth != 0) {
    return absl::InvalidArgumentError("--depth: DANE-EE(3) names the leaf (depth 0)");
  }
  if (*usage == tlsa::kDaneTa && *depth == 0) {
    return absl::InvalidArgumentError(
        "--depth: a DANE-TA(2) record names an issuer (depth 1 or more), not the leaf");
  }
  if (*depth >= chain.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.host.empty() ? "--cert " + o.cert : o.host, " holds ", chain.size(),
                     " certificate(s); --depth ", static_cast<int>(*depth), " needs ", *depth + 1,
                     *usage == tlsa::kDaneTa ? " (give the chain the server sends, leaf first, "
                                               "with the trust anchor)"
                                             : ""));
  }
  absl::StatusOr<std::string> data = tlsa::AssociationData(chain[*depth], *selector, *mtype);
  if (!data.ok()) return data.status();
  record.data = *std::move(data);
  return record;
}

absl::StatusOr<int> RunTlsa(const Options& o) {
  absl::StatusOr<tlsa::TlsaRecord> record = RecordToPublish(o);
  if (!record.ok()) return record.status();
  std::string owner;
  if (!o.name.empty()) {
    absl::StatusOr<std::string> name = dns::CanonicalMailName(o.name, "--name");
    if (!name.ok()) return name.status();
    const uint16_t port = PortFrom(o);
    owner = absl::StrCat(dns::TlsaOwnerName(*name, port), ".");
  }
  const std::string text = tlsa::TlsaText(*record);
  if (o.json) {
    std::cout << "{\"owner\":" << common::JsonString(owner) << ",\"usage\":" << int{record->usage}
              << ",\"selector\":" << int{record->selector}
              << ",\"matching_type\":" << int{record->matching_type} << ",\"data\":\""
              << absl::BytesToHexString(record->data) << "\"}\n";
  } else {
    std::cout << (owner.empty() ? text : absl::StrCat(owner, " IN TLSA ", text)) << "\n";
  }
  return 0;
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
    {"verify",
     "danegate verify (--server=HOST:PORT | --local) [options] DOMAIN --mx HOST --chain FILE.pem",
     "Prints whether a TLS session with MX host HOST that presented the PEM chain\n"
     "in FILE (leaf first) may carry mail for DOMAIN."},
    {"match", "danegate match --tlsa \"U S M HEX\" [--tlsa ...] --chain FILE.pem --name HOST",
     "Matches the PEM chain in FILE against the given TLSA records, taken as\n"
     "DNSSEC-validated for HOST (the TLSA base domain). No DNS is used."},
    {"rollover",
     "danegate rollover (--server=HOST:PORT | --local) [options] DOMAIN "
     "[--next FILE.pem] [--current FILE.pem] [--warn-days N]",
     "Says whether deploying the next certificate or key (--next: a chain, leaf\n"
     "first, or a key) now keeps mail to DOMAIN flowing: every DANE MX host\n"
     "publishes a usable TLSA record for it, the current one (--current) is\n"
     "still published, and neither the RRSIGs over the TLSA RRsets nor the\n"
     "certificates expire within --warn-days (default 7). Exit 0 when safe, 75\n"
     "with the reason otherwise. Without --next: the expiry check alone, for a\n"
     "cron job."},
    {"probe",
     "danegate probe (--server=HOST:PORT | --local) [options] DOMAIN "
     "[--host-timeout D] [--helo-name NAME]",
     "Prints what a sending MTA would meet now: DOMAIN's policy, then for every MX\n"
     "host that may carry mail and each of its addresses (IPv4 and IPv6, from the\n"
     "validated policy): connect on --port, EHLO, STARTTLS, the chain presented,\n"
     "the verdict on it (VerifyPeer), the TLSA record that matched and when the\n"
     "certificate expires. Exit 0 when every address takes mail as the policy\n"
     "requires, 75 when one does not (the report names it and the reason), 69\n"
     "when the domain rejects mail."},
    {"tlsa",
     "danegate tlsa (--cert FILE.pem | --host HOST) [--usage U] [--selector S] [--mtype M] "
     "[--depth D] "
     "[--name HOST [--port P]]",
     "Prints the TLSA record to publish for the certificate, chain (leaf first) or\n"
     "key in FILE, or for what HOST presents after STARTTLS on --port: 3 1 1 by\n"
     "default (the leaf's key, SHA-256); with --usage 2 the\n"
     "issuer at --depth (default 1) of the chain the server sends. --name prints\n"
     "the zone-file line with its owner, _PORT._tcp.HOST."},
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
  flags.Count("port", &o.port, 1, 65535, "SMTP port for the TLSA lookup (default 25)");
  const std::string verb_name = command->name;
  const bool asks = verb_name == "policy" || verb_name == "verify" || verb_name == "rollover" ||
                    verb_name == "probe";  // DNS or danegated
  if (asks) {
    flags.String("server", &o.remote.server, "HOST:PORT", "ask this danegated");
    flags.String("tls-ca", &o.remote.ca_file, "FILE",
                 "CA (PEM) that verifies the server's certificate; enables TLS");
    flags.String("tls-cert", &o.remote.cert_file, "FILE", "client certificate (PEM), mutual TLS");
    flags.String("tls-key", &o.remote.key_file, "FILE", "private key of --tls-cert (PEM)");
    flags.String("tls-server-name", &o.remote.server_name, "NAME",
                 "name expected in the server's certificate (default: the HOST of --server)");
    flags.Duration("timeout", &o.remote.timeout, absl::Milliseconds(1), absl::Hours(1),
                   "deadline of the call (default 10s)");
    flags.Bool("local", &o.local, "run the engine in this process instead (no danegated)");
    dns::AddResolverFlags(flags, o.resolver);
    flags.String("insecure-mx-policy", &o.insecure_mx, "dane|may",
                 "--local: hosts behind an insecure MX RRset get DANE from their own secure "
                 "records (dane, the default) or never (may)");
  }
  if (verb_name == "verify") {
    flags.String("mx", &o.mx, "HOST", "the MX host the session is with");
  }
  if (verb_name == "verify" || verb_name == "match") {
    flags.String("chain", &o.chain, "FILE.pem", "the peer's certificates, leaf first");
  }
  if (verb_name == "rollover") {
    flags.String("next", &o.next, "FILE.pem", "the certificate chain or key to deploy next");
    flags.String("current", &o.current, "FILE.pem", "the certificate chain or key deployed now");
    flags.Count("warn-days", &o.warn_days, 0, 3650,
                "unsafe when RRSIGs or certificates expire within N days (default 7)");
  }
  if (verb_name == "probe" || verb_name == "tlsa") {
    flags.Duration("host-timeout", &o.host_deadline, absl::Milliseconds(1), absl::Minutes(10),
                   "deadline of the SMTP sessions with one host, all its addresses (default 20s)");
    flags.String("helo-name", &o.helo_name, "NAME", "the name said in EHLO (default localhost)");
  }
  if (verb_name == "tlsa") {
    flags.String("cert", &o.cert, "FILE.pem",
                 "the server's certificate, its chain (leaf first) or its key (public or private)");
    flags.String("host", &o.host, "HOST",
                 "instead of --cert: what HOST presents after STARTTLS on --port (not verified)");
    flags.String("usage", &o.usage, "U", "3 DANE-EE (default) or 2 DANE-TA");
    flags.String("selector", &o.selector, "S", "1 the key (default) or 0 the whole certificate");
    flags.String("mtype", &o.mtype, "M", "1 SHA-256 (default), 2 SHA-512 or 0 the data itself");
    flags.String("depth", &o.depth, "D",
                 "which certificate of the chain a DANE-TA record names (default 1)");
    flags.String("name", &o.name, "HOST", "print the owner name _PORT._tcp.HOST. too");
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
    std::cout << "usage: " << command->usage << "\n\n"
              << command->summary << "\n\noptions:\n"
              << flags.Help();
    return 0;
  }

  const size_t want_args = asks ? 1 : 0;
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
  if (verb_name == "tlsa" && o.cert.empty() == o.host.empty()) {
    return usage_error("needs --cert or --host");
  }
  if (absl::Status helo = smtp::CheckHeloName("--helo-name", o.helo_name); !helo.ok()) {
    return usage_error(std::string(helo.message()));
  }
  if (asks && o.local == !o.remote.server.empty()) {
    return usage_error("give either --server=HOST:PORT or --local");
  }
  // Bad flag values are usage errors, caught before any lookup (the
  // typed flags' ranges are checked while parsing).
  if (asks) {
    if (absl::StatusOr<dns::ResolverConfig> config = dns::ResolverConfigFrom(o.resolver);
        !config.ok()) {
      return usage_error(std::string(config.status().message()));
    }
  }

  absl::StatusOr<int> status = verb_name == "policy"     ? RunPolicy(o, *args)
                               : verb_name == "verify"   ? RunVerify(o, *args)
                               : verb_name == "match"    ? RunMatch(o)
                               : verb_name == "rollover" ? RunRollover(o, *args)
                               : verb_name == "probe"    ? RunProbe(o, *args)
                                                         : RunTlsa(o);
  if (!status.ok()) {
    Failure failure = FailureFrom(status.status(), asks ? "validator" : "server");
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
