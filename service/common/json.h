// JSON string escaping for everything danegate prints as JSON (CLI output,
// logs, the audit log). Details may quote hostile data: the output is always
// valid JSON.
#ifndef DANEGATE_SERVICE_COMMON_JSON_H_
#define DANEGATE_SERVICE_COMMON_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace danegate::common {

// Returns `text` as a JSON string literal, quotes included: control
// characters escaped, well-formed UTF-8 kept, stray bytes as U+FFFD.
std::string JsonString(absl::string_view text);

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_JSON_H_
