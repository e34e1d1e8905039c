#include "plugin/postfix/lookup.h"

#include <optional>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/convert.h"
#include "service/tlsa/association.h"

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

std::vector<std::string> Lookup::AddFetchedAnchors(v1::ResolvePolicyResponse& answer) const {
  std::vector<std::string> problems;
  int fetches = 0;
  for (const AnchorsToFetch& wanted : DigestAnchorsToFetch(answer)) {
    v1::MxHost& host = *answer.mutable_mx(wanted.mx_index);
    std::optional<absl::StatusOr<tlsa::DerChain>> chain;  // fetched when first needed
    for (const tlsa::TlsaRecord& record : wanted.records) {
      const std::string key = absl::StrCat(host.host(), " ", tlsa::TlsaText(record));
      std::optional<std::string> full;
      {
        absl::MutexLock lock(&mu_);
        auto it = anchors_.find(key);
        if (it != anchors_.end() && it->second.until > absl::Now()) full = it->second.full_data;
      }
      if (!full.has_value()) {
        if (!chain.has_value()) {
          if (fetches == kMaxFetchesPerLookup) break;
          ++fetches;
          chain = fetch_(host.host(), host.host());
        }
        if (!chain->ok()) {
          problems.push_back(std::string(chain->status().message()));
          break;
        }
        absl::StatusOr<std::string> found = tlsa::FullDataFromChain(record, **chain);
        if (!found.ok()) {
          problems.push_back(absl::StrCat(host.host(), ": ", found.status().message()));
          continue;
        }
        full = *std::move(found);
        absl::MutexLock lock(&mu_);
        if (anchors_.size() >= kMaxRememberedAnchors) anchors_.clear();
        anchors_[key] = Remembered{*full, absl::Now() + kAnchorLifetime};
      }
      v1::TlsaRecord* added = host.add_tlsa();
      added->set_usage(record.usage);
      added->set_selector(record.selector);
      added->set_matching_type(tlsa::kExact);
      added->set_data(*std::move(full));
    }
  }
  return problems;
}

MapReply Lookup::AnswerTlsPolicy(const std::string& domain) const {
  absl::StatusOr<v1::ResolvePolicyResponse> answer = ask_(domain);
  if (!answer.ok()) return Unanswered(answer.status());
  const std::vector<std::string> problems = AddFetchedAnchors(*answer);
  std::variant<TlsPolicy, NoPolicy> decided = TlsPolicyFor(*answer);
  if (const NoPolicy* none = std::get_if<NoPolicy>(&decided)) {
    std::string detail = none->detail;
    if (!problems.empty()) {
      absl::StrAppend(&detail, "; trust anchors not found: ", absl::StrJoin(problems, "; "));
    }
    return Reply(MapReply::Status::kTemp,
                 absl::StrCat("danegate: ", none->reason, detail.empty() ? "" : ": ", detail),
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
