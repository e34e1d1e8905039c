// Reading small files whose size must be bounded before they are trusted
// (certificates, keys, trust anchors, configuration).
#ifndef DANEGATE_SERVICE_COMMON_FILE_H_
#define DANEGATE_SERVICE_COMMON_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace danegate::common {

// Returns the contents of `path`, or InvalidArgument "PATH: cannot be read"
// / "PATH: larger than LIMIT bytes". Never reads more than limit + 1 bytes.
absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t limit);

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_FILE_H_
