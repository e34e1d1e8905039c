#include "service/tlsa/parsed_certificates.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"

namespace danegate::tlsa {

X509Ptr ParseDerCertificate(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (cert == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return nullptr;
  }
  return cert;
}

X509Ptr ParsedCertificateCache::Get(const std::string& der) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = entries_.find(der); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      X509_up_ref(it->second.cert.get());
      return X509Ptr(it->second.cert.get());
    }
  }
  X509Ptr cert = ParseDerCertificate(der);
  if (cert == nullptr) return nullptr;
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

ParsedCertificateCacheStats ParsedCertificateCache::Stats() const {
  absl::MutexLock lock(&mu_);
  return {entries_.size(), bytes_, max_bytes_};
}

void ParsedCertificateCache::EvictToFit(size_t incoming) {
  while (!lru_.empty() && (bytes_ + incoming > max_bytes_ || entries_.size() + 1 > kMaxEntries)) {
    const std::string* oldest = lru_.back();
    bytes_ -= Cost(*oldest);
    lru_.pop_back();
    entries_.erase(*oldest);
  }
}

absl::StatusOr<std::vector<X509Ptr>> ParseChain(const DerChain& chain,
                                                ParsedCertificateCache* cache) {
  if (chain.empty()) return absl::InvalidArgumentError("chain: empty; the leaf comes first");
  if (chain.size() > kMaxChainCertificates) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chain: ", chain.size(), " certificates; the limit is ", kMaxChainCertificates));
  }
  std::vector<X509Ptr> parsed;
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i].size() > kMaxCertificateSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chain[", i, "]: ", chain[i].size(), " octets; the limit is ", kMaxCertificateSize));
    }
    X509Ptr cert = cache != nullptr ? cache->Get(chain[i]) : ParseDerCertificate(chain[i]);
    if (cert == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("chain[", i, "]: not one well-formed DER X.509 certificate"));
    }
    parsed.push_back(std::move(cert));
  }
  return parsed;
}

}  // namespace danegate::tlsa
