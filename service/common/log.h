// Structured logs: one JSON object per line on stderr, for operators and
// log shippers. Thread-safe.
#ifndef DANEGATE_SERVICE_COMMON_LOG_H_
#define DANEGATE_SERVICE_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace danegate::common {

using LogField = std::pair<absl::string_view, std::string>;

// Writes {"time":…,"level":…,"msg":…,<fields>} to stderr.
void Log(absl::string_view level, absl::string_view message,
         std::initializer_list<LogField> fields = {});

// Returns the current time as RFC 3339 UTC with milliseconds.
std::string NowRfc3339();

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_LOG_H_
