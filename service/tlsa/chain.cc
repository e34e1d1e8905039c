#include "service/tlsa/chain.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "service/common/file.h"
#include "service/tlsa/openssl_ptr.h"
#include "service/tlsa/parsed_certificates.h"

namespace danegate::tlsa {

absl::Status CheckChain(const DerChain& chain) { return ParseChain(chain, nullptr).status(); }

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
      return absl::InvalidArgumentError(absl::StrCat(path, ": certificate ", chain.size() + 1,
                                                     " is not a well-formed PEM certificate"));
    }
    if (chain.size() == kMaxChainCertificates) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": more than ", kMaxChainCertificates, " certificates"));
    }
    const int len = i2d_X509(cert.get(), nullptr);
    if (len <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": certificate ", chain.size() + 1, " cannot be encoded"));
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
