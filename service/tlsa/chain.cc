#include "service/tlsa/chain.h"


#include <openssl/err.h>
#include <openssl/pem.h>

#include <list>

#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/common/file.h"
#include "service/tlsa/certificate_cache.h"
#include "service/tlsa/openssl_ptr.h"

namespace danegate::tlsa {

namespace {

X509Ptr DecodeDer(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (cert == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return nullptr;
  }
  return cert;
}

// Parsed certificates by DER, least recently used evicted, bounded by an
// estimate of the memory they hold (any caller can fill it, with
// certificates of up to 64 KiB). Entries hold a reference; callers get their
// own (X509_up_ref). X509 objects are not modified after parsing, so
// sharing them across threads is safe.
class ParsedCertificateCache {
 public:
  static constexpr size_t kMaxEntries = 100000;

  // What an entry costs: the DER key, and the parsed X509, which measured
  // 2.1-2.9 times its DER (136-183 KiB for 64 KiB certificates) plus fixed
  // overhead.
  static size_t Cost(const std::string& der) { return der.size() * 4 + 2048; }

  void SetMaxBytes(size_t max_bytes) {
    absl::MutexLock lock(&mu_);
    max_bytes_ = max_bytes;
    EvictToFit(0);
  }

  ParsedCertificateCacheStats Stats() const {
    absl::MutexLock lock(&mu_);
    return {entries_.size(), bytes_, max_bytes_};
  }

  X509Ptr Get(const std::string& der) {
    {
      absl::MutexLock lock(&mu_);
      if (auto it = entries_.find(der); it != entries_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        X509_up_ref(it->second.cert.get());
        return X509Ptr(it->second.cert.get());
      }
    }
    X509Ptr cert = DecodeDer(der);
    if (cert == nullptr) return nullptr;  // failures are not cached
    absl::MutexLock lock(&mu_);
    if (entries_.find(der) == entries_.end() && Cost(der) <= max_bytes_) {
      EvictToFit(Cost(der));
      bytes_ += Cost(der);
      X509_up_ref(cert.get());
      auto [it, inserted] = entries_.emplace(der, Entry{X509Ptr(cert.get()), {}});
      lru_.push_front(&it->first);
      it->second.lru = lru_.begin();
    }
    return cert;
  }

 private:
  struct Entry {
    X509Ptr cert;
    std::list<const std::string*>::iterator lru;
  };

  // Evicts least recently used entries until `incoming` more bytes and one
  // more entry fit.
  void EvictToFit(size_t incoming) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!lru_.empty() &&
           (bytes_ + incoming > max_bytes_ || entries_.size() + 1 > kMaxEntries)) {
      const std::string* oldest = lru_.back();
      bytes_ -= Cost(*oldest);
      lru_.pop_back();
      entries_.erase(*oldest);
    }
  }

  mutable absl::Mutex mu_;
  size_t max_bytes_ ABSL_GUARDED_BY(mu_) = kDefaultParsedCertificateCacheBytes;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // node_hash_map: the key's address is stable for the LRU list.
  absl::node_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<const std::string*> lru_ ABSL_GUARDED_BY(mu_);
};

ParsedCertificateCache& Cache() {
  static auto* cache = new ParsedCertificateCache;  // never destroyed
  return *cache;
}

}  // namespace

X509Ptr ParseDerCertificate(const std::string& der) { return Cache().Get(der); }

void SetParsedCertificateCacheBytes(size_t max_bytes) { Cache().SetMaxBytes(max_bytes); }

ParsedCertificateCacheStats GetParsedCertificateCacheStats() { return Cache().Stats(); }

absl::StatusOr<std::vector<X509Ptr>> ParseChain(const DerChain& chain) {
  if (chain.empty()) return absl::InvalidArgumentError("chain: empty; the leaf comes first");
  if (chain.size() > kMaxChainCertificates) {
    return absl::InvalidArgumentError(absl::StrCat("chain: ", chain.size(),
                                                   " certificates; the limit is ",
                                                   kMaxChainCertificates));
  }
  std::vector<X509Ptr> parsed;
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i].size() > kMaxCertificateSize) {
      return absl::InvalidArgumentError(absl::StrCat("chain[", i, "]: ", chain[i].size(),
                                                     " octets; the limit is ",
                                                     kMaxCertificateSize));
    }
    X509Ptr cert = ParseDerCertificate(chain[i]);
    if (cert == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("chain[", i, "]: not one well-formed DER X.509 certificate"));
    }
    parsed.push_back(std::move(cert));
  }
  return parsed;
}

absl::Status CheckChain(const DerChain& chain) { return ParseChain(chain).status(); }

absl::StatusOr<DerChain> ReadPemChain(const std::string& path) {
  // PEM is base64 (4/3) plus headers: bound the file before reading it all.
  constexpr size_t kMaxPemFile = kMaxChainCertificates * kMaxCertificateSize * 3 / 2;
  absl::StatusOr<std::string> pem_file = common::ReadFileBounded(path, kMaxPemFile);
  if (!pem_file.ok()) return pem_file.status();
  const std::string& pem = *pem_file;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::ResourceExhaustedError("BIO_new_mem_buf failed");
  DerChain chain;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) {
      const unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      // Running out of PEM blocks is the normal end; anything else is damage.
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": certificate ", chain.size() + 1, " is not a well-formed PEM certificate"));
    }
    if (chain.size() == kMaxChainCertificates) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": more than ",
                                                     kMaxChainCertificates, " certificates"));
    }
    const int len = i2d_X509(cert.get(), nullptr);
    if (len <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": certificate ",
                                                     chain.size() + 1, " cannot be encoded"));
    }
    std::string der(static_cast<size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509(cert.get(), &out);
    chain.push_back(std::move(der));
  }
  if (chain.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no PEM certificate found"));
  }
  if (absl::Status s = CheckChain(chain); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  return chain;
}

}  // namespace danegate::tlsa
