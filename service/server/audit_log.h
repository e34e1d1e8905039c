// The audit trail: one JSON line per decision, so an operator can answer
// "why was this message deferred?". Thread-safe. Write only appends to a
// buffer; a thread of the log's own writes and flushes it (at least every
// kFlushInterval), so no RPC or engine thread waits for the disk. Past
// kMaxBuffered bytes waiting (a disk that stalls), lines are dropped and
// counted, never queued without bound.
#ifndef DANEGATE_SERVICE_SERVER_AUDIT_LOG_H_
#define DANEGATE_SERVICE_SERVER_AUDIT_LOG_H_

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/policy/decision.h"

namespace danegate::server {

struct AuditRecord {
  std::string rpc;     // "ResolvePolicy" / "VerifyPeer"
  std::string client;  // certificate name, or peer address
  std::string domain;
  std::string mx_host;  // VerifyPeer only
  uint16_t port = 25;
  std::string action;  // deliver/defer/reject, or "error"
  std::string reason;
  bool authenticated = false;
  std::optional<tlsa::TlsaRecord> matched;
  absl::Duration latency;
  std::string detail;
};

class AuditLog {
 public:
  static constexpr size_t kMaxBuffered = 8 << 20;
  static constexpr absl::Duration kFlushInterval = absl::Milliseconds(200);

  // Opens `path` for appending; "-" is stdout, "" disables the log. Starts
  // the writer thread.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path);
  // Writes what is buffered, then stops the writer.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void Write(const AuditRecord& record);

  // Lines dropped because kMaxBuffered bytes were waiting.
  uint64_t dropped() const;

  // Returns the JSON line (without newline) for `record`.
  static std::string Format(const AuditRecord& record);

 private:
  AuditLog(FILE* file, bool owned) : file_(file), owned_(owned) {}
  void WriteOut();

  mutable absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_since_report_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  FILE* const file_;  // null when disabled; the writer thread's alone
  const bool owned_;
  std::thread writer_;
};

}  // namespace danegate::server

#endif  // DANEGATE_SERVICE_SERVER_AUDIT_LOG_H_
