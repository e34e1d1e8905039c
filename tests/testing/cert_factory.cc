#include "tests/testing/cert_factory.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_join.h"

namespace danegate::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "cert_factory: " << what << " failed\n";
    std::abort();
  }
}

X509* AsX509(const std::shared_ptr<void>& p) { return static_cast<X509*>(p.get()); }
EVP_PKEY* AsKey(const std::shared_ptr<void>& p) { return static_cast<EVP_PKEY*>(p.get()); }

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

TestCert Issue(const CertSpec& spec, const TestCert* issuer) {
  static long serial = 1;
  TestCert out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "EVP_EC_gen");
  out.key_ = std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
  X509* cert = X509_new();
  out.x509_ = std::shared_ptr<void>(cert, [](void* c) { X509_free(static_cast<X509*>(c)); });
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), 86400L * spec.not_before_days);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * spec.not_after_days);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer_cert = issuer ? AsX509(issuer->x509_) : cert;
  EVP_PKEY* signer_key = issuer ? AsKey(issuer->key_) : key;
  X509_set_issuer_name(cert, X509_get_subject_name(signer_cert));
  AddExtension(cert, signer_cert, NID_basic_constraints,
               spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExtension(cert, signer_cert, NID_subject_key_identifier, "hash");
  if (spec.is_ca) AddExtension(cert, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!spec.dns_names.empty()) {
    std::vector<std::string> sans;
    for (const std::string& n : spec.dns_names) sans.push_back("DNS:" + n);
    AddExtension(cert, signer_cert, NID_subject_alt_name, absl::StrJoin(sans, ","));
  }
  Check(X509_sign(cert, signer_key, EVP_sha256()) > 0, "X509_sign");
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  Check(len > 0, "i2d_X509");
  out.der_.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string TestCert::spki_der() const {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(AsX509(x509_)), &der);
  Check(len > 0, "i2d_X509_PUBKEY");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

tlsa::TlsaRecord TestCert::Tlsa(uint8_t usage, uint8_t selector, uint8_t matching_type) const {
  return {usage, selector, matching_type, Digest(selector == 0 ? der_ : spki_der(), matching_type)};
}

std::string TestCert::Pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, AsX509(x509_));
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string Digest(const std::string& data, uint8_t matching_type) {
  if (matching_type == 0) return data;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Check(EVP_Digest(data.data(), data.size(), md, &len,
                   matching_type == 1 ? EVP_sha256() : EVP_sha512(), nullptr) == 1,
        "EVP_Digest");
  return std::string(reinterpret_cast<char*>(md), len);
}

tlsa::DerChain Chain(std::initializer_list<const TestCert*> certs) {
  tlsa::DerChain chain;
  for (const TestCert* c : certs) chain.push_back(c->der());
  return chain;
}

}  // namespace danegate::testing
