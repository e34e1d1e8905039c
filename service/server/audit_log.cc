#include "service/server/audit_log.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/common/json.h"
#include "service/common/log.h"

namespace danegate::server {

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  if (path.empty()) return std::unique_ptr<AuditLog>(new AuditLog(nullptr, false));
  if (path == "-") return std::unique_ptr<AuditLog>(new AuditLog(stdout, false));
  FILE* file = fopen(path.c_str(), "a");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--audit-log ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(file, true));
}

AuditLog::~AuditLog() {
  if (owned_) fclose(file_);
}

std::string AuditLog::Format(const AuditRecord& r) {
  using common::JsonString;
  std::string matched = "null";
  if (r.matched.has_value()) matched = JsonString(tlsa::TlsaText(*r.matched));
  return absl::StrCat(
      "{\"time\":\"", common::NowRfc3339(), "\",\"rpc\":", JsonString(r.rpc),
      ",\"client\":", JsonString(r.client), ",\"domain\":", JsonString(r.domain),
      ",\"mx_host\":", JsonString(r.mx_host), ",\"port\":", r.port,
      ",\"action\":", JsonString(r.action), ",\"reason\":", JsonString(r.reason),
      ",\"authenticated\":", r.authenticated ? "true" : "false", ",\"matched_tlsa\":", matched,
      ",\"latency_ms\":", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(r.latency)),
      ",\"detail\":", JsonString(r.detail), "}");
}

void AuditLog::Write(const AuditRecord& record) {
  if (file_ == nullptr) return;
  const std::string line = Format(record) + "\n";
  absl::MutexLock lock(&mu_);
  fwrite(line.data(), 1, line.size(), file_);
  fflush(file_);
}

}  // namespace danegate::server
