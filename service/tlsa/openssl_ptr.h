// unique_ptr aliases owning OpenSSL objects (internal to service/tlsa).
#ifndef DANEGATE_SERVICE_TLSA_OPENSSL_PTR_H_
#define DANEGATE_SERVICE_TLSA_OPENSSL_PTR_H_

#include <memory>

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
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

using X509Ptr = std::unique_ptr<X509, OpensslFree>;
using BioPtr = std::unique_ptr<BIO, OpensslFree>;
using SslPtr = std::unique_ptr<SSL, OpensslFree>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpensslFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpensslFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree>;

}  // namespace danegate::tlsa

#endif  // DANEGATE_SERVICE_TLSA_OPENSSL_PTR_H_
