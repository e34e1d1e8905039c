#include "plugin/postfix/lookup.h"

#include <variant>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "service/api/convert.h"

namespace danegate::postfix {
namespace {

MapReply Reply(MapReply::Status status, std::string data, std::string reason) {
  return MapReply{status, std::move(data), std::move(reason)};
}

// The reply for a question danegated did not answer.
MapReply Unanswered(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return Reply(MapReply::Status::kPerm,
                 absl::StrCat("danegate: invalid_argument: ", status.message()),
                 "invalid_argument");
  }
  return Reply(MapReply::Status::kTemp,
               absl::StrCat("danegate: validator_unavailable: ",
                            absl::StatusCodeToString(status.code()), ": ", status.message()),
               "validator_unavailable");
}

}  // namespace

MapReply Lookup::Answer(absl::string_view request) const {
  const size_t space = request.find(' ');
  if (space == absl::string_view::npos) {
    return Reply(MapReply::Status::kPerm, "danegate: malformed request, want 'MAP KEY'",
                 "invalid_argument");
  }
  const absl::string_view map = request.substr(0, space);
  const absl::string_view key = request.substr(space + 1);
  if (map == kTlsPolicyMap) {
    ParsedKey parsed = ParsePolicyKey(key);
    if (parsed.use != KeyUse::kAsk) {
      return Reply(MapReply::Status::kPerm, absl::StrCat("danegate: ", parsed.error),
                   "invalid_argument");
    }
    return AnswerTlsPolicy(parsed.domain);
  }
  if (map == kTransportMap) {
    ParsedKey parsed = ParseTransportKey(key);
    if (parsed.use != KeyUse::kAsk) return Reply(MapReply::Status::kNotFound, "", "");
    return AnswerTransport(parsed.domain);
  }
  return Reply(MapReply::Status::kPerm,
               absl::StrCat("danegate: unknown map '", absl::CHexEscape(map.substr(0, 64)),
                            "', want ", kTlsPolicyMap, " or ", kTransportMap),
               "invalid_argument");
}

MapReply Lookup::AnswerTlsPolicy(const std::string& domain) const {
  absl::StatusOr<v1::ResolvePolicyResponse> answer = ask_(domain);
  if (!answer.ok()) return Unanswered(answer.status());
  std::variant<TlsPolicy, NoPolicy> decided = TlsPolicyFor(*answer);
  if (const NoPolicy* none = std::get_if<NoPolicy>(&decided)) {
    return Reply(MapReply::Status::kTemp,
                 absl::StrCat("danegate: ", none->reason,
                              none->detail.empty() ? "" : ": ", none->detail),
                 none->reason);
  }
  const TlsPolicy& policy = std::get<TlsPolicy>(decided);
  std::string tafile;
  if (policy.level == TlsPolicy::Level::kSecure) {
    absl::StatusOr<std::string> stored = store_(policy.trust_anchors_pem);
    if (!stored.ok()) {
      return Reply(MapReply::Status::kTemp,
                   absl::StrCat("danegate: trust_anchor_file: ", stored.status().message()),
                   "trust_anchor_file");
    }
    tafile = *std::move(stored);
  }
  return Reply(MapReply::Status::kOk, TlsPolicyText(policy, tafile), policy.reason);
}

MapReply Lookup::AnswerTransport(const std::string& domain) const {
  absl::StatusOr<v1::ResolvePolicyResponse> answer = ask_(domain);
  if (!answer.ok()) return Unanswered(answer.status());
  std::optional<std::string> entry = TransportFor(*answer);
  if (!entry.has_value()) return Reply(MapReply::Status::kNotFound, "", "");
  return Reply(MapReply::Status::kOk, *std::move(entry),
               api::ReasonToken(answer->reason()));
}

}  // namespace danegate::postfix
