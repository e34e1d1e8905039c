#include "service/tlsa/record.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace danegate::tlsa {
namespace {

// Returns true if `der` is exactly one DER SEQUENCE (tag 0x30, definite
// length, content filling the rest of the buffer). Enough to reject data
// that cannot be a certificate or SubjectPublicKeyInfo before OpenSSL sees it.
bool IsSingleDerSequence(absl::string_view der) {
  if (der.size() < 2 || static_cast<uint8_t>(der[0]) != 0x30) return false;
  const auto first = static_cast<uint8_t>(der[1]);
  size_t header = 2;
  size_t length = first;
  if (first & 0x80) {
    const size_t octets = first & 0x7f;
    if (octets == 0 || octets > 3 || der.size() < 2 + octets) return false;
    length = 0;
    for (size_t i = 0; i < octets; ++i) {
      length = (length << 8) | static_cast<uint8_t>(der[2 + i]);
    }
    header += octets;
    if (length < 0x80) return false;  // DER requires the short form here
  }
  return der.size() - header == length;
}

}  // namespace

Usability Classify(const TlsaRecord& r) {
  // RFC 7672 §3.1.3: PKIX usages are not used with SMTP.
  if (r.usage == kPkixTa || r.usage == kPkixEe) {
    return {false, absl::StrCat("usage ", r.usage, " (PKIX) is not used for SMTP")};
  }
  if (r.usage != kDaneTa && r.usage != kDaneEe) {
    return {false, absl::StrCat("unknown usage ", r.usage)};
  }
  if (r.selector != kFullCert && r.selector != kSpki) {
    return {false, absl::StrCat("unknown selector ", r.selector)};
  }
  switch (r.matching_type) {
    case kExact:
      if (!IsSingleDerSequence(r.data)) {
        return {false, "exact-match data is not a DER certificate or key"};
      }
      return {true, ""};
    case kSha256:
      if (r.data.size() != 32) {
        return {false, absl::StrCat("SHA-256 digest is ", r.data.size(), " octets, not 32")};
      }
      return {true, ""};
    case kSha512:
      if (r.data.size() != 64) {
        return {false, absl::StrCat("SHA-512 digest is ", r.data.size(), " octets, not 64")};
      }
      return {true, ""};
    default:
      return {false, absl::StrCat("unknown matching type ", r.matching_type)};
  }
}

absl::StatusOr<TlsaRecord> ParseTlsaText(absl::string_view text) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(text, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
  if (fields.size() < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLSA record '", text, "': want \"USAGE SELECTOR MTYPE HEX\""));
  }
  uint8_t numbers[3];
  for (int i = 0; i < 3; ++i) {
    uint32_t value = 0;
    if (!absl::SimpleAtoi(fields[i], &value) || value > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLSA record: field ", i + 1, " '", fields[i], "' is not 0..255"));
    }
    numbers[i] = static_cast<uint8_t>(value);
  }
  std::string hex;
  for (size_t i = 3; i < fields.size(); ++i) absl::StrAppend(&hex, fields[i]);
  if (hex.size() % 2 != 0 || hex.size() / 2 > kMaxTlsaDataSize) {
    return absl::InvalidArgumentError("TLSA record: data must be an even number of hex digits"
                                      " and at most 65532 octets");
  }
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("TLSA record: data is not hexadecimal");
    }
  }
  return TlsaRecord{numbers[0], numbers[1], numbers[2], absl::HexStringToBytes(hex)};
}

std::string TlsaText(const TlsaRecord& r) {
  return absl::StrCat(r.usage, " ", r.selector, " ", r.matching_type, " ",
                      absl::BytesToHexString(r.data));
}

}  // namespace danegate::tlsa
