// Fuzzes what danegate-agent does with an Exim plugin request ("MAP KEY",
// hostile local bytes): EximLookup::Answer with validators that answer at
// once. Whatever the bytes, the reply is OK only for a well-formed key that
// reached the validator, and every failure text starts with its reason code
// and fits Postfix's and Exim's logs.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "plugin/agent/exim_lookup.h"

using danegate::agent::EximLookup;
using danegate::agent::MapReply;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  bool asked = false;
  EximLookup lookup(
      [&](const danegate::v1::ResolvePolicyRequest& request)
          -> absl::StatusOr<danegate::v1::ResolvePolicyResponse> {
        asked = true;
        if (request.port() == 0 || request.port() > 65535) std::abort();
        danegate::v1::ResolvePolicyResponse answer;
        answer.set_action(danegate::v1::ACTION_DELIVER);
        answer.add_mx()->set_host(request.domain());
        return answer;
      },
      [&](const danegate::v1::VerifyPeerRequest& request)
          -> absl::StatusOr<danegate::v1::VerifyPeerResponse> {
        asked = true;
        if (request.chain_size() < 1 || request.chain_size() > danegate::agent::kMaxEximChain) {
          std::abort();
        }
        for (const std::string& der : request.chain()) {
          if (der.empty() || der.size() > danegate::agent::kMaxEximCertificate) std::abort();
        }
        return absl::UnavailableError(request.domain());
      });
  const size_t space = input.find(' ');
  const absl::string_view map = input.substr(0, space);
  const absl::string_view key = space == absl::string_view::npos ? "" : input.substr(space + 1);
  const MapReply reply = lookup.Answer(map, key);
  if (reply.status == MapReply::Status::kOk && !asked) std::abort();
  if (reply.status != MapReply::Status::kOk) {
    if (reply.data.size() > MapReply::kMaxFailureText) std::abort();
    if (reply.data.compare(0, reply.reason.size(), reply.reason) != 0) std::abort();
  }
  return 0;
}
