// Output of the danegate CLI: one JSON object, or a readable report, from
// the API responses (so --local and --server print the same thing).
#ifndef DANEGATE_SERVICE_CLI_RENDER_H_
#define DANEGATE_SERVICE_CLI_RENDER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "danegate/v1/validator.pb.h"
#include "service/cli/rollover.h"

namespace danegate::cli {

// A TLSA record as JSON ({"usage":3,...,"data":"hex"}) and as zone-file
// RDATA ("3 1 1 hex").
std::string TlsaJson(const v1::TlsaRecord& record);
std::string TlsaText(const v1::TlsaRecord& record);

std::string PolicyJson(const v1::ResolvePolicyResponse& response);
std::string VerdictJson(const v1::VerifyPeerResponse& response);
std::string PolicyText(const v1::ResolvePolicyResponse& response);
std::string VerdictText(const v1::VerifyPeerResponse& response);

// Returns the process exit status for an action: 0 deliver, 75 defer,
// 69 reject (sysexits EX_TEMPFAIL / EX_UNAVAILABLE).
int ExitStatus(v1::Action action);

// `danegate rollover`'s answer: one JSON object, or a report for people.
std::string RolloverJson(const std::string& domain, const Rollover& rollover);
std::string RolloverText(const std::string& domain, const Rollover& rollover);

}  // namespace danegate::cli

#endif  // DANEGATE_SERVICE_CLI_RENDER_H_
