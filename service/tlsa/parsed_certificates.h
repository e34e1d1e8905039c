// Parsing DER certificates with OpenSSL (internal to service/tlsa), and the
// bounded cache of parsed certificates a DaneMatcher owns: OpenSSL 3.0
// decoding costs tens of microseconds, and a fleet sees the same server
// certificates again and again.
#ifndef DANEGATE_SERVICE_TLSA_PARSED_CERTIFICATES_H_
#define DANEGATE_SERVICE_TLSA_PARSED_CERTIFICATES_H_

#include <list>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/tlsa/certificate_cache.h"
#include "service/tlsa/chain.h"
#include "service/tlsa/openssl_ptr.h"

namespace danegate::tlsa {

// Parses exactly one DER certificate filling `der`; nullptr otherwise.
X509Ptr ParseDerCertificate(const std::string& der);

// Parsed certificates by DER, least recently used evicted, bounded by an
// estimate of the memory they hold (any caller can fill it, with
// certificates of up to 64 KiB). Entries hold a reference; callers get their
// own (X509_up_ref). X509 objects are not modified after parsing, so sharing
// them across threads is safe. Thread-safe.
class ParsedCertificateCache {
 public:
  static constexpr size_t kMaxEntries = 100000;

  explicit ParsedCertificateCache(size_t max_bytes) : max_bytes_(max_bytes) {}
  ParsedCertificateCache(const ParsedCertificateCache&) = delete;
  ParsedCertificateCache& operator=(const ParsedCertificateCache&) = delete;

  // What an entry costs: the DER key, and the parsed X509, which measured
  // 2.1-2.9 times its DER (136-183 KiB for 64 KiB certificates) plus fixed
  // overhead.
  static size_t Cost(const std::string& der) { return der.size() * 4 + 2048; }

  // ParseDerCertificate, served from the cache; failures are not cached.
  X509Ptr Get(const std::string& der);
  ParsedCertificateCacheStats Stats() const;

 private:
  struct Entry {
    X509Ptr cert;
    std::list<const std::string*>::iterator lru;
  };

  // Evicts least recently used entries until `incoming` more bytes and one
  // more entry fit.
  void EvictToFit(size_t incoming) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  const size_t max_bytes_;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // node_hash_map: the key's address is stable for the LRU list.
  absl::node_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<const std::string*> lru_ ABSL_GUARDED_BY(mu_);
};

// Parses and checks a chain (the limits of CheckChain), through `cache`
// when given.
absl::StatusOr<std::vector<X509Ptr>> ParseChain(const DerChain& chain,
                                                ParsedCertificateCache* cache);

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_PARSED_CERTIFICATES_H_
