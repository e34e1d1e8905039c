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

MapReply Invalid(const std::string& why) {
  return MapReply::Failure(MapReply::Status::kPerm, "invalid_argument", why);
}

// The reply for a question danegated did not answer.
MapReply Unanswered(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return Invalid(std::string(status.message()));
  }
  return MapReply::Failure(
      MapReply::Status::kTemp, "validator_unavailable",
      absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message()));
}

}  // namespace

MapReply Lookup::Answer(absl::string_view request) const {
  const size_t space = request.find(' ');
  if (space == absl::string_view::npos) {
    return Invalid("malformed request, want 'MAP KEY'");
  }
  const absl::string_view map = request.substr(0, space);
  const absl::string_view key = request.substr(space + 1);
  if (map == kTlsPolicyMap) {
    ParsedKey parsed = ParsePolicyKey(key);
    if (parsed.use != KeyUse::kAsk) {
      return Invalid(parsed.error);
    }
    return AnswerTlsPolicy(parsed.domain);
  }
  if (map == kTransportMap) {
    ParsedKey parsed = ParseTransportKey(key);
    if (parsed.use != KeyUse::kAsk) return Reply(MapReply::Status::kNotFound, "", "");
    return AnswerTransport(parsed.domain);
  }
  return Invalid(absl::StrCat("unknown map '", absl::CHexEscape(map.substr(0, 64)), "', want ",
                              kTlsPolicyMap, " or ", kTransportMap));
}

std::optional<absl::StatusOr<std::string>> Lookup::Recall(const std::string& key) const {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  auto it = remembered_.find(key);
  if (it == remembered_.end() || it->second.until <= now) return std::nullopt;
  return it->second.full_data;
}

void Lookup::Remember(const std::string& key, absl::StatusOr<std::string> full_data) const {
  const absl::Time until = now_() + (full_data.ok() ? kAnchorLifetime : kFailureLifetime);
  absl::MutexLock lock(&mu_);
  if (remembered_.size() >= kMaxRemembered) remembered_.clear();
  remembered_[key] = Remembered{std::move(full_data), until};
}

std::vector<std::string> Lookup::AddFetchedAnchors(v1::ResolvePolicyResponse& answer) const {
  std::vector<std::string> problems;
  int fetches = 0;
  for (const AnchorsToFetch& wanted : DigestAnchorsToFetch(answer)) {
    v1::MxHost& host = *answer.mutable_mx(wanted.mx_index);
    // The host's chain, fetched when first needed; a failed fetch is
    // remembered under the host's name.
    std::optional<absl::StatusOr<tlsa::DerChain>> chain;
    for (const tlsa::TlsaRecord& record : wanted.records) {
      const std::string key = absl::StrCat(host.host(), " ", tlsa::TlsaText(record));
      std::optional<absl::StatusOr<std::string>> full = Recall(key);
      if (!full.has_value()) {
        if (std::optional<absl::StatusOr<std::string>> failed = Recall(host.host())) {
          problems.push_back(std::string(failed->status().message()));
          break;
        }
        if (!chain.has_value()) {
          if (fetches == kMaxFetchesPerLookup) break;
          ++fetches;
          chain = fetch_(host.host(), host.host());
        }
        if (!chain->ok()) {
          Remember(host.host(), chain->status());
          problems.push_back(std::string(chain->status().message()));
          break;
        }
        full = tlsa::FullDataFromChain(record, **chain);
        Remember(key, *full);
      }
      if (!full->ok()) {
        problems.push_back(absl::StrCat(host.host(), ": ", full->status().message()));
        continue;
      }
      v1::TlsaRecord* added = host.add_tlsa();
      added->set_usage(record.usage);
      added->set_selector(record.selector);
      added->set_matching_type(tlsa::kExact);
      added->set_data(**std::move(full));
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
    // What went wrong first: Postfix shows only the start of the text.
    const std::string detail =
        problems.empty() ? none->detail
                         : absl::StrCat("trust anchors not found: ", absl::StrJoin(problems, "; "),
                                        "; ", none->detail);
    return MapReply::Failure(MapReply::Status::kTemp, none->reason, detail);
  }
  const TlsPolicy& policy = std::get<TlsPolicy>(decided);
  std::string tafile;
  if (policy.level == TlsPolicy::Level::kSecure) {
    absl::StatusOr<std::string> stored = store_(policy.trust_anchors_pem);
    if (!stored.ok()) {
      return MapReply::Failure(MapReply::Status::kTemp, "trust_anchor_file",
                               std::string(stored.status().message()));
    }
    tafile = *std::move(stored);
  }
  return Reply(MapReply::Status::kOk, TlsPolicyText(policy, tafile), policy.reason);
}

MapReply Lookup::AnswerTransport(const std::string& domain) const {
  if (local_domains_.contains(domain)) return Reply(MapReply::Status::kNotFound, "", "local");
  absl::StatusOr<v1::ResolvePolicyResponse> answer = ask_(domain);
  if (!answer.ok()) return Unanswered(answer.status());
  std::optional<std::string> entry = TransportFor(*answer);
  if (!entry.has_value()) return Reply(MapReply::Status::kNotFound, "", "");
  return Reply(MapReply::Status::kOk, *std::move(entry), api::ReasonToken(answer->reason()));
}

}  // namespace danegate::postfix
