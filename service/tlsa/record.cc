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

// DER tags used below (X.690 §8).
constexpr uint8_t kTagSequence = 0x30;
constexpr uint8_t kTagOid = 0x06;
constexpr uint8_t kTagBitString = 0x03;

// Takes one DER element (tag, definite minimal length, content) off the
// front of `in`; false on anything else (indefinite or non-minimal
// lengths, a length past the end).
bool TakeElement(absl::string_view& in, uint8_t& tag, absl::string_view& content) {
  if (in.size() < 2) return false;
  tag = static_cast<uint8_t>(in[0]);
  if ((tag & 0x1f) == 0x1f) return false;  // high tag numbers: none in these structures
  const auto first = static_cast<uint8_t>(in[1]);
  size_t header = 2;
  size_t length = first;
  if (first & 0x80) {
    const size_t octets = first & 0x7f;
    if (octets == 0 || octets > 3 || in.size() < 2 + octets) return false;
    if (static_cast<uint8_t>(in[2]) == 0) return false;  // DER: no leading zero octet
    length = 0;
    for (size_t i = 0; i < octets; ++i) length = (length << 8) | static_cast<uint8_t>(in[2 + i]);
    header += octets;
    if (length < 0x80) return false;  // DER requires the short form here
  }
  if (in.size() - header < length) return false;
  content = in.substr(header, length);
  in.remove_prefix(header + length);
  return true;
}

// Takes one element with tag `want` off the front of `in`.
bool Take(absl::string_view& in, uint8_t want, absl::string_view& content) {
  uint8_t tag = 0;
  return TakeElement(in, tag, content) && tag == want;
}

// An AlgorithmIdentifier (RFC 5280 §4.1.1.2): SEQUENCE { OID, parameters
// OPTIONAL }.
bool IsAlgorithmIdentifier(absl::string_view der) {
  absl::string_view content, oid, parameters;
  uint8_t tag = 0;
  if (!Take(der, kTagSequence, content) || !der.empty()) return false;
  if (!Take(content, kTagOid, oid) || oid.empty()) return false;
  return content.empty() || (TakeElement(content, tag, parameters) && content.empty());
}

// A BIT STRING whose first content octet (unused bits) is 0..7.
bool IsBitString(absl::string_view der) {
  absl::string_view bits;
  return Take(der, kTagBitString, bits) && der.empty() && !bits.empty() &&
         static_cast<uint8_t>(bits[0]) < 8;
}

// RFC 5280 §4.1: SubjectPublicKeyInfo ::= SEQUENCE { algorithm
// AlgorithmIdentifier, subjectPublicKey BIT STRING }, spanning `der`.
bool IsSubjectPublicKeyInfo(absl::string_view der) {
  absl::string_view spki;
  if (!Take(der, kTagSequence, spki) || !der.empty()) return false;
  absl::string_view algorithm = spki;
  absl::string_view ignored;
  if (!Take(spki, kTagSequence, ignored)) return false;
  algorithm.remove_suffix(spki.size());
  return IsAlgorithmIdentifier(algorithm) && IsBitString(spki);
}

// RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate SEQUENCE,
// signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING },
// spanning `der`.
bool IsCertificate(absl::string_view der) {
  absl::string_view certificate, tbs;
  if (!Take(der, kTagSequence, certificate) || !der.empty()) return false;
  if (!Take(certificate, kTagSequence, tbs) || tbs.empty()) return false;
  absl::string_view algorithm = certificate;
  absl::string_view ignored;
  if (!Take(certificate, kTagSequence, ignored)) return false;
  algorithm.remove_suffix(certificate.size());
  return IsAlgorithmIdentifier(algorithm) && IsBitString(certificate);
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
      // RFC 7671 §9: malformed records are discarded before anything else;
      // the TLS library would drop them at match time, leaving a host that
      // never authenticates.
      if (r.selector == kSpki ? !IsSubjectPublicKeyInfo(r.data) : !IsCertificate(r.data)) {
        return {false, r.selector == kSpki ? "exact-match data is not a DER SubjectPublicKeyInfo"
                                           : "exact-match data is not a DER certificate"};
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
    default: return {false, absl::StrCat("unknown matching type ", r.matching_type)};
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
    return absl::InvalidArgumentError(
        "TLSA record: data must be an even number of hex digits"
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
