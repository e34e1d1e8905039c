// The bound and the figures of the process-wide cache of parsed
// certificates behind ParseDerCertificate (openssl_ptr.h), without OpenSSL
// types: for danegated's flags and metrics.
#ifndef DANEGATE_SERVICE_TLSA_CERTIFICATE_CACHE_H_
#define DANEGATE_SERVICE_TLSA_CERTIFICATE_CACHE_H_

#include <cstddef>

namespace danegate::tlsa {

// The default bound: an estimate of the memory the entries hold (a parsed
// certificate costs about four times its DER), least recently used evicted
// past it.
inline constexpr size_t kDefaultParsedCertificateCacheBytes = 64u << 20;

// Sets the bound (evicting at once what no longer fits). Thread-safe.
void SetParsedCertificateCacheBytes(size_t max_bytes);

struct ParsedCertificateCacheStats {
  size_t entries = 0;
  size_t bytes = 0;  // estimated
  size_t max_bytes = 0;
};
ParsedCertificateCacheStats GetParsedCertificateCacheStats();

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_CERTIFICATE_CACHE_H_
