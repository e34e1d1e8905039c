#include "service/tlsa/matcher.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "service/tlsa/openssl_ptr.h"
#include "service/tlsa/parsed_certificates.h"

namespace danegate::tlsa {

struct DaneMatcher::State {
  explicit State(size_t cache_bytes) : certificates(cache_bytes) {}
  SslCtxPtr ctx;
  mutable ParsedCertificateCache certificates;
};

DaneMatcher::DaneMatcher(std::unique_ptr<State> state) : state_(std::move(state)) {}
DaneMatcher::~DaneMatcher() = default;

absl::StatusOr<std::unique_ptr<DaneMatcher>> DaneMatcher::Create(MatcherOptions options) {
  auto state = std::make_unique<State>(options.certificate_cache_bytes);
  state->ctx.reset(SSL_CTX_new(TLS_client_method()));
  // An empty trust store: only TLSA records can make a chain trusted.
  if (state->ctx == nullptr || SSL_CTX_dane_enable(state->ctx.get()) <= 0) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL: cannot enable DANE");
  }
  return std::unique_ptr<DaneMatcher>(new DaneMatcher(std::move(state)));
}

absl::StatusOr<MatchResult> DaneMatcher::Match(
    const DerChain& chain, const std::vector<TlsaRecord>& records,
    const std::vector<std::string>& reference_names) const {
  absl::StatusOr<std::vector<X509Ptr>> parsed = ParseChain(chain, &state_->certificates);
  if (!parsed.ok()) return parsed.status();
  if (reference_names.empty()) {
    return absl::InvalidArgumentError("reference names: at least the TLSA base domain");
  }
  MatchResult result;

  SslPtr ssl(SSL_new(state_->ctx.get()));
  if (ssl == nullptr || SSL_dane_enable(ssl.get(), reference_names[0].c_str()) <= 0) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL: SSL_dane_enable failed");
  }
  // RFC 7672 §3.1.1: no name checks for DANE-EE(3).
  SSL_dane_set_flags(ssl.get(), DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  // RFC 7672 §3.2.3: wildcards only as the whole leftmost label.
  SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  for (size_t i = 1; i < reference_names.size(); ++i) {
    if (SSL_add1_host(ssl.get(), reference_names[i].c_str()) != 1) {
      ERR_clear_error();
      return absl::InternalError("OpenSSL: SSL_add1_host failed");
    }
  }
  int added = 0;
  for (const TlsaRecord& r : records) {
    if (!Classify(r).usable) continue;
    const int rc =
        SSL_dane_tlsa_add(ssl.get(), r.usage, r.selector, r.matching_type,
                          reinterpret_cast<const unsigned char*>(r.data.data()), r.data.size());
    // 0: unusable by OpenSSL (e.g. a disabled digest); <0: malformed data
    // such as an exact key that does not parse. Either way: not usable.
    if (rc > 0) ++added;
  }
  ERR_clear_error();
  if (added == 0) {
    result.detail = "no usable TLSA record";
    return result;
  }
  SSL_set_connect_state(ssl.get());

  X509* leaf = (*parsed)[0].get();
  X509StackPtr untrusted(sk_X509_new_null());
  if (untrusted == nullptr) return absl::InternalError("OpenSSL: allocation");
  for (size_t i = 1; i < parsed->size(); ++i) {
    if (!sk_X509_push(untrusted.get(), (*parsed)[i].get())) {
      return absl::InternalError("OpenSSL: allocation");
    }
    (*parsed)[i].release();  // now owned by the stack
  }

  StoreCtxPtr store_ctx(X509_STORE_CTX_new());
  if (store_ctx == nullptr ||
      !X509_STORE_CTX_init(store_ctx.get(), SSL_CTX_get_cert_store(state_->ctx.get()), leaf,
                           untrusted.get()) ||
      !X509_STORE_CTX_set_ex_data(store_ctx.get(), SSL_get_ex_data_X509_STORE_CTX_idx(),
                                  ssl.get())) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL: X509_STORE_CTX setup failed");
  }
  X509_STORE_CTX_set_default(store_ctx.get(), "ssl_server");
  X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(store_ctx.get()), SSL_get0_param(ssl.get()));
  X509_STORE_CTX_set0_dane(store_ctx.get(), SSL_get0_dane(ssl.get()));

  const int verified = X509_verify_cert(store_ctx.get());
  const int error = X509_STORE_CTX_get_error(store_ctx.get());
  SSL_set_verify_result(ssl.get(), error);
  ERR_clear_error();
  if (verified != 1) {
    result.detail = absl::StrCat("certificate verification failed at depth ",
                                 X509_STORE_CTX_get_error_depth(store_ctx.get()), ": ",
                                 X509_verify_cert_error_string(error));
    return result;
  }
  uint8_t usage = 0, selector = 0, mtype = 0;
  const unsigned char* data = nullptr;
  size_t dlen = 0;
  const int depth = SSL_get0_dane_tlsa(ssl.get(), &usage, &selector, &mtype, &data, &dlen);
  if (depth < 0 || data == nullptr) {
    result.detail = "verified, but no TLSA record reported as matched";
    return result;
  }
  result.matched = true;
  result.depth = depth;
  result.record =
      TlsaRecord{usage, selector, mtype, std::string(reinterpret_cast<const char*>(data), dlen)};
  return result;
}

absl::Status DaneMatcher::CheckChain(const DerChain& chain) const {
  return ParseChain(chain, &state_->certificates).status();
}

ParsedCertificateCacheStats DaneMatcher::CertificateCacheStats() const {
  return state_->certificates.Stats();
}

}  // namespace danegate::tlsa
