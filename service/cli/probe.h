// `danegate probe DOMAIN`: what a sending MTA would experience now. The
// policy (MX, DNSSEC, TLSA per host), then for each host and each of its
// addresses: connect, EHLO, STARTTLS, the chain presented, the verdict on
// it, the record that matched and the leaf's expiry. The network and the
// validator are given as functions, so the walk and its outcomes are
// table-tested without either.
#ifndef DANEGATE_SERVICE_CLI_PROBE_H_
#define DANEGATE_SERVICE_CLI_PROBE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "danegate/v1/validator.pb.h"
#include "service/smtp/starttls_client.h"

namespace danegate::cli {

// One address of one host.
struct AddressProbe {
  std::string address;  // as in the policy: "192.0.2.1", "2001:db8::1"
  smtp::Failure failure = smtp::Failure::kNone;
  std::string error;                              // the session's, or the validator's
  std::string protocol, cipher;                   // when the handshake completed
  std::optional<v1::VerifyPeerResponse> verdict;  // on the chain presented
  absl::Time not_after = absl::InfinitePast();    // the leaf's expiry, when read
  // What an MTA obeying the policy does with this address.
  v1::Action action = v1::ACTION_DEFER;
  std::string reason;  // the verdict's reason code, or the session's failure
};

struct HostProbe {
  v1::MxHost policy;
  std::vector<AddressProbe> addresses;
  std::string not_probed;  // why no address was tried ("" when some were)
};

struct Probe {
  v1::ResolvePolicyResponse policy;
  std::vector<HostProbe> hosts;
  // Every probed address takes mail as the policy requires; else the
  // action of the worst and its reason.
  v1::Action action = v1::ACTION_DEFER;
  std::string reason;
  std::string delivers_via;  // the first host and address mail would go to, or ""
};

struct ProbeIo {
  // One STARTTLS session with `address` ("A.B.C.D:P" or "[V6]:P").
  absl::FunctionRef<smtp::Session(const std::string& address, const std::string& sni,
                                  absl::Time deadline)>
      start_tls;
  // The validator's verdict on a chain (VerifyPeer).
  absl::FunctionRef<absl::StatusOr<v1::VerifyPeerResponse>(const v1::VerifyPeerRequest&)> verify;
  absl::FunctionRef<absl::Time()> now;
};

// Probes every host of `policy` that may carry mail (not unreachable), each
// address in the policy's order, `per_host` shared among a host's
// addresses; `port` is the port connected to.
Probe ProbeDomain(const v1::ResolvePolicyResponse& policy, uint16_t port, absl::Duration per_host,
                  const ProbeIo& io);

// What an MTA does with one address of `host`, given the session (and the
// verdict, when a chain was presented): sets action and reason.
void DecideAddress(const v1::MxHost& host, AddressProbe& probe);

std::string ProbeJson(const Probe& probe, absl::Time now);
std::string ProbeText(const Probe& probe, absl::Time now);

}  // namespace danegate::cli

#endif  // DANEGATE_SERVICE_CLI_PROBE_H_
