// One reply of the agent's socketmap protocol (Postfix's socketmap, also
// spoken by danegate_exim.so): "OK data", "NOTFOUND ", "TEMP data" or
// "PERM data", with the reason code the agent logs and counts. Pure.
#ifndef DANEGATE_PLUGIN_AGENT_MAP_REPLY_H_
#define DANEGATE_PLUGIN_AGENT_MAP_REPLY_H_

#include <cstddef>
#include <string>

namespace danegate::agent {

struct MapReply {
  enum class Status { kOk, kNotFound, kTemp, kPerm } status = Status::kTemp;
  std::string data;
  std::string reason;  // reason code, for the log and the metrics

  // Returns the reply payload (before netstring framing).
  std::string Payload() const;

  // Postfix logs a TEMP or PERM text cut at 200 characters.
  static constexpr size_t kMaxFailureText = 200;
  // Returns a kTemp or kPerm reply whose text starts with the reason code,
  // "REASON: DETAIL", cut to kMaxFailureText bytes and to one printable line.
  static MapReply Failure(Status status, const std::string& reason, const std::string& detail);
};

}  // namespace danegate::agent

#endif  // DANEGATE_PLUGIN_AGENT_MAP_REPLY_H_
