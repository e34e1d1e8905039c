#include "service/tlsa/association.h"

#include <ctime>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "service/tlsa/openssl_ptr.h"
#include "service/tlsa/parsed_certificates.h"

namespace danegate::tlsa {

absl::StatusOr<std::string> MatchingData(const std::string& data, uint8_t matching_type) {
  if (matching_type == kExact) return data;
  if (matching_type != kSha256 && matching_type != kSha512) {
    return absl::InvalidArgumentError(
        absl::StrCat("matching type ", static_cast<int>(matching_type), ": unknown"));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &md_len,
                 matching_type == kSha256 ? EVP_sha256() : EVP_sha512(), nullptr) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL: digest failed");
  }
  return std::string(reinterpret_cast<const char*>(md), md_len);
}

absl::StatusOr<std::string> AssociationData(const std::string& der, uint8_t selector,
                                            uint8_t matching_type) {
  if (selector > kSpki || matching_type > kSha512) {
    return absl::InvalidArgumentError(absl::StrCat("selector ", static_cast<int>(selector),
                                                   ", matching type ",
                                                   static_cast<int>(matching_type), ": unknown"));
  }
  std::string data = der;
  if (selector == kSpki) {
    X509Ptr cert = ParseDerCertificate(der);
    if (cert == nullptr) return absl::InvalidArgumentError("not a DER certificate");
    unsigned char* spki = nullptr;
    const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &spki);
    if (len <= 0) {
      ERR_clear_error();
      return absl::InvalidArgumentError("certificate without an encodable public key");
    }
    data.assign(reinterpret_cast<const char*>(spki), static_cast<size_t>(len));
    OPENSSL_free(spki);
  }
  return MatchingData(data, matching_type);
}

absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& der) {
  X509Ptr cert = ParseDerCertificate(der);
  tm when{};
  if (cert == nullptr || ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &when) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a DER certificate with a notAfter time");
  }
  return absl::FromTimeT(timegm(&when));
}

absl::StatusOr<std::string> SpkiFromPemKey(const std::string& pem) {
  auto read = [&pem](bool private_key) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (bio == nullptr) return PkeyPtr();
    return PkeyPtr(private_key ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                               : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  };
  PkeyPtr key = read(false);
  if (key == nullptr) key = read(true);
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError("not a PEM certificate, public key or private key");
  }
  unsigned char* spki = nullptr;
  const int len = i2d_PUBKEY(key.get(), &spki);
  if (len <= 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the key cannot be encoded as a SubjectPublicKeyInfo");
  }
  std::string der(reinterpret_cast<const char*>(spki), static_cast<size_t>(len));
  OPENSSL_free(spki);
  return der;
}

absl::StatusOr<std::string> FullDataFromChain(const TlsaRecord& record, const DerChain& chain) {
  if (record.matching_type != kSha256 && record.matching_type != kSha512) {
    return absl::InvalidArgumentError("not a digest record");
  }
  for (const std::string& der : chain) {
    absl::StatusOr<std::string> digest =
        AssociationData(der, record.selector, record.matching_type);
    if (digest.ok() && *digest == record.data) {
      return AssociationData(der, record.selector, kExact);
    }
  }
  return absl::NotFoundError(absl::StrCat("no certificate of the ", chain.size(),
                                          "-certificate chain matches ", TlsaText(record)));
}

}  // namespace danegate::tlsa
