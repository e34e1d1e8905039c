// The outcome of matching a chain against TLSA records (a plain value, so
// the policy module can take it without depending on OpenSSL).
#ifndef DANEGATE_SERVICE_TLSA_MATCH_RESULT_H_
#define DANEGATE_SERVICE_TLSA_MATCH_RESULT_H_

#include <optional>
#include <string>

#include "service/tlsa/record.h"

namespace danegate::tlsa {

struct MatchResult {
  bool matched = false;
  std::optional<TlsaRecord> record;  // the record that matched
  int depth = -1;                    // chain depth it matched at
  std::string detail;                // why not, when !matched
};

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_MATCH_RESULT_H_
