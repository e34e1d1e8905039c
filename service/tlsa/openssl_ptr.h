// unique_ptr aliases owning OpenSSL objects (internal to service/tlsa).
#ifndef DANEGATE_SERVICE_TLSA_OPENSSL_PTR_H_
#define DANEGATE_SERVICE_TLSA_OPENSSL_PTR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace danegate::tlsa {

struct OpensslFree {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(STACK_OF(X509)* p) const { sk_X509_pop_free(p, X509_free); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

using X509Ptr = std::unique_ptr<X509, OpensslFree>;
using BioPtr = std::unique_ptr<BIO, OpensslFree>;
using SslPtr = std::unique_ptr<SSL, OpensslFree>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpensslFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpensslFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree>;

// Parses exactly one DER certificate filling `der`; nullptr otherwise.
// Served from a bounded process-wide cache of parsed certificates (OpenSSL
// 3.0 decoding costs tens of microseconds, and a fleet sees the same server
// certificates again and again); the returned reference is the caller's.
X509Ptr ParseDerCertificate(const std::string& der);

// Parses and checks a chain (the limits of CheckChain), once.
absl::StatusOr<std::vector<X509Ptr>> ParseChain(const std::vector<std::string>& chain);

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_OPENSSL_PTR_H_
