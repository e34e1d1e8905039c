// The bound and the figures of the cache of parsed certificates a
// DaneMatcher owns (parsed_certificates.h), without OpenSSL types: for
// danegated's flags and metrics.
#ifndef DANEGATE_SERVICE_TLSA_CERTIFICATE_CACHE_H_
#define DANEGATE_SERVICE_TLSA_CERTIFICATE_CACHE_H_

#include <cstddef>

namespace danegate::tlsa {

// The default bound: an estimate of the memory the entries hold (a parsed
// certificate costs about four times its DER), least recently used evicted
// past it.
inline constexpr size_t kDefaultParsedCertificateCacheBytes = 64u << 20;

struct ParsedCertificateCacheStats {
  size_t entries = 0;
  size_t bytes = 0;  // estimated
  size_t max_bytes = 0;
};

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_CERTIFICATE_CACHE_H_
