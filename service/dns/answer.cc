#include "service/dns/answer.h"

namespace danegate::dns {

const char* DnssecStateName(DnssecState state) {
  switch (state) {
    case DnssecState::kSecure: return "secure";
    case DnssecState::kInsecure: return "insecure";
    case DnssecState::kBogus: return "bogus";
    case DnssecState::kIndeterminate: return "indeterminate";
  }
  return "indeterminate";
}

const char* LookupStatusName(LookupStatus status) {
  switch (status) {
    case LookupStatus::kOk: return "ok";
    case LookupStatus::kNoData: return "nodata";
    case LookupStatus::kNxDomain: return "nxdomain";
    case LookupStatus::kFailure: return "failure";
  }
  return "failure";
}

const char* RrTypeName(RrType type) {
  switch (type) {
    case RrType::kA: return "A";
    case RrType::kCname: return "CNAME";
    case RrType::kMx: return "MX";
    case RrType::kAaaa: return "AAAA";
    case RrType::kTlsa: return "TLSA";
  }
  return "?";
}

}  // namespace danegate::dns
