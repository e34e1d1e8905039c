#include "service/server/audit_log.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/common/json.h"
#include "service/common/log.h"

namespace danegate::server {

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  std::unique_ptr<AuditLog> log;
  if (path.empty()) return std::unique_ptr<AuditLog>(new AuditLog(nullptr, false));
  if (path == "-") {
    log.reset(new AuditLog(stdout, false));
  } else {
    FILE* file = fopen(path.c_str(), "a");
    if (file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--audit-log ", path, ": ", std::strerror(errno)));
    }
    log.reset(new AuditLog(file, true));
  }
  log->writer_ = std::thread([l = log.get()] { l->WriteOut(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (owned_) fclose(file_);
}

void AuditLog::WriteOut() {
  std::string out;
  for (bool last = false; !last;) {
    uint64_t dropped = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](AuditLog* l) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l->mu_) { return l->stopping_; },
              this),
          kFlushInterval);
      last = stopping_;
      out.swap(buffer_);
      dropped = std::exchange(dropped_since_report_, 0);
    }
    if (!out.empty()) {
      fwrite(out.data(), 1, out.size(), file_);
      fflush(file_);
      out.clear();
    }
    if (dropped > 0) {
      common::Log("warning", "audit log lines dropped: the disk is not keeping up",
                  {{"lines", absl::StrCat(dropped)}});
    }
  }
}

uint64_t AuditLog::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
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
  if (buffer_.size() + line.size() > kMaxBuffered) {
    ++dropped_;
    ++dropped_since_report_;
    return;
  }
  buffer_ += line;
}

}  // namespace danegate::server
