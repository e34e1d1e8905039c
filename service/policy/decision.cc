#include "service/policy/decision.h"

namespace danegate::policy {

const char* ActionName(Action action) {
  switch (action) {
    case Action::kDeliver: return "deliver";
    case Action::kDefer: return "defer";
    case Action::kReject: return "reject";
  }
  return "defer";
}

const char* TlsModeName(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDane: return "dane";
    case TlsMode::kMandatory: return "mandatory";
    case TlsMode::kOpportunistic: return "opportunistic";
    case TlsMode::kUnreachable: return "unreachable";
  }
  return "unreachable";
}

const char* ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kDaneAuthenticated: return "dane_authenticated";
    case Reason::kDaneRequired: return "dane_required";
    case Reason::kDaneMismatch: return "dane_mismatch";
    case Reason::kTlsaUnusable: return "tlsa_unusable";
    case Reason::kInsecureNoDane: return "insecure_no_dane";
    case Reason::kNoTlsa: return "no_tlsa";
    case Reason::kDnssecBogus: return "dnssec_bogus";
    case Reason::kDnsFailure: return "dns_failure";
    case Reason::kNoAddress: return "no_address";
    case Reason::kNullMx: return "null_mx";
    case Reason::kDomainNotFound: return "domain_not_found";
    case Reason::kInvalidArgument: return "invalid_argument";
    case Reason::kHostNotInPolicy: return "host_not_in_policy";
  }
  return "dns_failure";
}

}  // namespace danegate::policy
