// The audit trail: one JSON line per decision, so an operator can answer
// "why was this message deferred?". Thread-safe.
#ifndef DANEGATE_SERVICE_SERVER_AUDIT_LOG_H_
#define DANEGATE_SERVICE_SERVER_AUDIT_LOG_H_

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/policy/decision.h"

namespace danegate::server {

struct AuditRecord {
  std::string rpc;      // "ResolvePolicy" / "VerifyPeer"
  std::string client;   // certificate name, or peer address
  std::string domain;
  std::string mx_host;  // VerifyPeer only
  uint16_t port = 25;
  std::string action;   // deliver/defer/reject, or "error"
  std::string reason;
  bool authenticated = false;
  std::optional<tlsa::TlsaRecord> matched;
  absl::Duration latency;
  std::string detail;
};

class AuditLog {
 public:
  // Opens `path` for appending; "-" is stdout, "" disables the log.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();

  void Write(const AuditRecord& record);

  // Returns the JSON line (without newline) for `record`.
  static std::string Format(const AuditRecord& record);

 private:
  AuditLog(FILE* file, bool owned) : file_(file), owned_(owned) {}
  absl::Mutex mu_;
  FILE* const file_;  // null when disabled
  const bool owned_;
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_AUDIT_LOG_H_
