#include "service/common/log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/common/json.h"

namespace danegate::common {

std::string NowRfc3339() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
}

void Log(absl::string_view level, absl::string_view message,
         std::initializer_list<LogField> fields) {
  std::string line = absl::StrCat("{\"time\":\"", NowRfc3339(), "\",\"level\":", JsonString(level),
                                  ",\"msg\":", JsonString(message));
  for (const LogField& field : fields) {
    absl::StrAppend(&line, ",", JsonString(field.first), ":", JsonString(field.second));
  }
  line += "}\n";
  static absl::Mutex mu(absl::kConstInit);
  absl::MutexLock lock(&mu);
  fwrite(line.data(), 1, line.size(), stderr);
  fflush(stderr);
}

}  // namespace danegate::common
