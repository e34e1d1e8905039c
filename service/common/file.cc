#include "service/common/file.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace danegate::common {

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot be read"));
  std::string content(limit + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(limit + 1));
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot be read"));
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > limit) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than ", limit, " bytes"));
  }
  return content;
}

}  // namespace danegate::common
