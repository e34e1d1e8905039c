// Test certificates minted at test time (EC P-256): self-signed leaves, CA
// chains, chosen names and validity, and the TLSA records that match them.
#ifndef DANEGATE_TESTS_TESTING_CERT_FACTORY_H_
#define DANEGATE_TESTS_TESTING_CERT_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "service/tlsa/chain.h"
#include "service/tlsa/record.h"

namespace danegate::testing {

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;  // SAN dNSName entries
  bool is_ca = false;
  int not_before_days = -1;  // relative to now
  int not_after_days = 30;
};

class TestCert {
 public:
  const std::string& der() const { return der_; }
  std::string spki_der() const;
  // Returns the TLSA record for this certificate with the given parameters.
  tlsa::TlsaRecord Tlsa(uint8_t usage, uint8_t selector, uint8_t matching_type) const;
  std::string Pem() const;

 private:
  friend TestCert Issue(const CertSpec&, const TestCert*);
  std::shared_ptr<void> x509_;  // X509*
  std::shared_ptr<void> key_;   // EVP_PKEY*
  std::string der_;
};

// Issues a certificate for `spec`, signed by `issuer` (self-signed if null).
TestCert Issue(const CertSpec& spec, const TestCert* issuer = nullptr);

// Returns the SHA-256 (mtype 1) or SHA-512 (mtype 2) digest, or `data` (0).
std::string Digest(const std::string& data, uint8_t matching_type);

// Returns a DER chain of the given certificates, in the order given.
tlsa::DerChain Chain(std::initializer_list<const TestCert*> certs);

}  // namespace danegate::testing

#endif  // DANEGATE_TESTS_TESTING_CERT_FACTORY_H_
