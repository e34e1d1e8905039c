// Fuzzes hostile certificate chains into the chain limits and the OpenSSL
// matcher, as VerifyPeer receives them. The input is a sequence of
// certificates, each prefixed by a 2-byte big-endian length.
#include <cstdint>
#include <string>
#include <vector>

#include "service/tlsa/matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* matcher = danegate::tlsa::DaneMatcher::Create()->release();
  danegate::tlsa::DerChain chain;
  size_t i = 0;
  while (i + 2 <= size && chain.size() < 20) {
    const size_t len = (static_cast<size_t>(data[i]) << 8) | data[i + 1];
    i += 2;
    const size_t take = len < size - i ? len : size - i;
    chain.emplace_back(reinterpret_cast<const char*>(data + i), take);
    i += take;
  }
  if (!danegate::tlsa::CheckChain(chain).ok()) return 0;
  const std::vector<danegate::tlsa::TlsaRecord> records = {
      {3, 1, 1, std::string(32, 'a')},
      {2, 0, 1, std::string(32, 'b')},
      {3, 0, 0, std::string(data, data + (size < 64 ? size : 64))}};
  matcher->Match(chain, records, {"mx.example.com", "alias.example.net"}).IgnoreError();
  return 0;
}
