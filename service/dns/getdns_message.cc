#include "service/dns/getdns_message.h"

#include <arpa/inet.h>
#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace danegate::dns {

void GetdnsListDeleter::operator()(getdns_list* list) const { getdns_list_destroy(list); }

namespace {

struct DictDeleter {
  void operator()(getdns_dict* d) const { getdns_dict_destroy(d); }
};
using DictPtr = std::unique_ptr<getdns_dict, DictDeleter>;
using ListPtr = GetdnsListPtr;

// Converts a wire-format name to canonical presentation form ("" = root).
std::string NameFromWire(const getdns_bindata* wire) {
  char* fqdn = nullptr;
  if (wire == nullptr || getdns_convert_dns_name_to_fqdn(wire, &fqdn) != GETDNS_RETURN_GOOD) {
    return "";
  }
  std::string name = absl::AsciiStrToLower(fqdn);
  free(fqdn);
  absl::string_view view = name;
  absl::ConsumeSuffix(&view, ".");
  return std::string(view);
}

// Adds the record `rr` of `type` to `answer`; false when its data cannot be
// read (getdns leaves out fields of malformed RDATA).
bool AddRecord(getdns_dict* rr, RrType type, DnsAnswer& answer) {
  getdns_dict* rdata = nullptr;
  if (getdns_dict_get_dict(rr, "rdata", &rdata) != GETDNS_RETURN_GOOD) return false;
  getdns_bindata* bin = nullptr;
  switch (type) {
    case RrType::kMx: {
      uint32_t preference = 0;
      if (getdns_dict_get_int(rdata, "preference", &preference) != GETDNS_RETURN_GOOD ||
          getdns_dict_get_bindata(rdata, "exchange", &bin) != GETDNS_RETURN_GOOD) {
        return false;
      }
      answer.mx.push_back({static_cast<uint16_t>(preference), NameFromWire(bin)});
      return true;
    }
    case RrType::kA:
    case RrType::kAaaa: {
      const bool v6 = type == RrType::kAaaa;
      if (getdns_dict_get_bindata(rdata, v6 ? "ipv6_address" : "ipv4_address", &bin) !=
              GETDNS_RETURN_GOOD ||
          bin->size != (v6 ? 16u : 4u)) {
        return false;
      }
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(v6 ? AF_INET6 : AF_INET, bin->data, text, sizeof text);
      answer.addresses.emplace_back(text);
      return true;
    }
    case RrType::kTlsa: {
      uint32_t usage = 0, selector = 0, mtype = 0;
      if (getdns_dict_get_int(rdata, "certificate_usage", &usage) != GETDNS_RETURN_GOOD ||
          getdns_dict_get_int(rdata, "selector", &selector) != GETDNS_RETURN_GOOD ||
          getdns_dict_get_int(rdata, "matching_type", &mtype) != GETDNS_RETURN_GOOD ||
          getdns_dict_get_bindata(rdata, "certificate_association_data", &bin) !=
              GETDNS_RETURN_GOOD) {
        return false;
      }
      answer.tlsa.push_back({static_cast<uint8_t>(usage), static_cast<uint8_t>(selector),
                             static_cast<uint8_t>(mtype),
                             std::string(reinterpret_cast<const char*>(bin->data), bin->size)});
      return true;
    }
    case RrType::kCname:
      if (getdns_dict_get_bindata(rdata, "cname", &bin) != GETDNS_RETURN_GOOD) return false;
      answer.canonical_name = NameFromWire(bin);
      return true;
  }
  return false;
}

// Returns min(SOA TTL, SOA MINIMUM) from the authority section: how long a
// denial may be cached (RFC 2308 §5); UINT32_MAX when there is no SOA.
uint32_t NegativeTtl(getdns_dict* reply) {
  uint32_t ttl = std::numeric_limits<uint32_t>::max();
  getdns_list* authority = nullptr;
  size_t count = 0;
  if (getdns_dict_get_list(reply, "authority", &authority) != GETDNS_RETURN_GOOD ||
      getdns_list_get_length(authority, &count) != GETDNS_RETURN_GOOD) {
    return ttl;
  }
  for (size_t i = 0; i < count; ++i) {
    getdns_dict* rr = nullptr;
    uint32_t type = 0, rr_ttl = 0, minimum = 0;
    if (getdns_list_get_dict(authority, i, &rr) == GETDNS_RETURN_GOOD &&
        getdns_dict_get_int(rr, "type", &type) == GETDNS_RETURN_GOOD && type == GETDNS_RRTYPE_SOA &&
        getdns_dict_get_int(rr, "ttl", &rr_ttl) == GETDNS_RETURN_GOOD &&
        getdns_dict_get_int(rr, "/rdata/minimum", &minimum) == GETDNS_RETURN_GOOD) {
      ttl = std::min({ttl, rr_ttl, minimum});
    }
  }
  return ttl;
}

// Returns the earliest RRSIG expiration in the answer and authority
// sections, or InfiniteFuture when nothing is signed.
absl::Time EarliestSignatureExpiry(getdns_dict* reply) {
  absl::Time earliest = absl::InfiniteFuture();
  for (const char* section_name : {"answer", "authority"}) {
    getdns_list* section = nullptr;
    size_t count = 0;
    if (getdns_dict_get_list(reply, section_name, &section) != GETDNS_RETURN_GOOD ||
        getdns_list_get_length(section, &count) != GETDNS_RETURN_GOOD) {
      continue;
    }
    for (size_t i = 0; i < count; ++i) {
      getdns_dict* rr = nullptr;
      uint32_t type = 0, expiration = 0;
      if (getdns_list_get_dict(section, i, &rr) == GETDNS_RETURN_GOOD &&
          getdns_dict_get_int(rr, "type", &type) == GETDNS_RETURN_GOOD &&
          type == GETDNS_RRTYPE_RRSIG &&
          getdns_dict_get_int(rr, "/rdata/signature_expiration", &expiration) ==
              GETDNS_RETURN_GOOD) {
        earliest = std::min(earliest, absl::FromUnixSeconds(expiration));
      }
    }
  }
  return earliest;
}

}  // namespace

// Reads trust anchors (DS or DNSKEY lines, zone-file format) from `path`.
absl::StatusOr<TrustAnchors> ReadTrustAnchors(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(fopen(path.c_str(), "r"), fclose);
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--trust-anchor ", path, ": cannot be read"));
  }
  getdns_list* raw = nullptr;
  if (getdns_fp2rr_list(file.get(), &raw, nullptr, 3600) != GETDNS_RETURN_GOOD) {
    return absl::InvalidArgumentError(
        absl::StrCat("--trust-anchor ", path, ": not a zone-file list of DS/DNSKEY records"));
  }
  ListPtr all(raw);
  ListPtr anchors(getdns_list_create());
  std::string first_owner;
  size_t count = 0;
  getdns_list_get_length(all.get(), &count);
  size_t kept = 0;
  for (size_t i = 0; i < count; ++i) {
    getdns_dict* rr = nullptr;
    uint32_t type = 0;
    if (getdns_list_get_dict(all.get(), i, &rr) != GETDNS_RETURN_GOOD ||
        getdns_dict_get_int(rr, "type", &type) != GETDNS_RETURN_GOOD) {
      continue;
    }
    if (type == GETDNS_RRTYPE_DS || type == GETDNS_RRTYPE_DNSKEY) {
      if (kept == 0) {
        getdns_bindata* owner = nullptr;
        getdns_dict_get_bindata(rr, "name", &owner);
        first_owner = NameFromWire(owner);
      }
      getdns_list_set_dict(anchors.get(), kept++, rr);
    }
  }
  if (kept == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--trust-anchor ", path, ": no DS or DNSKEY record found"));
  }
  return TrustAnchors{std::move(anchors), first_owner.empty() ? "." : first_owner};
}

DnsAnswer AnswerFromReply(const std::string& qname, RrType type, DnssecState dnssec,
                          getdns_dict* reply) {
  DnsAnswer answer;
  answer.qname = qname;
  answer.canonical_name = qname;
  answer.dnssec = dnssec;

  uint32_t rcode = GETDNS_RCODE_SERVFAIL;
  getdns_dict_get_int(reply, "/header/rcode", &rcode);
  if (rcode == GETDNS_RCODE_NXDOMAIN) {
    answer.status = LookupStatus::kNxDomain;
  } else if (rcode != GETDNS_RCODE_NOERROR) {
    // A failed lookup proves nothing, secure or not (whatever the resolver
    // said of the empty reply).
    answer.dnssec = DnssecState::kIndeterminate;
    answer.error = absl::StrCat("rcode ", rcode == GETDNS_RCODE_SERVFAIL  ? "SERVFAIL"
                                          : rcode == GETDNS_RCODE_REFUSED ? "REFUSED"
                                                                          : absl::StrCat(rcode));
    return answer;
  }

  // Collect the answer section once, then follow the CNAME chain from the
  // question (bounded: a hostile upstream may send a loop).
  struct Rr {
    uint32_t type;
    uint32_t ttl;
    std::string owner;
    getdns_dict* dict;
  };
  std::vector<Rr> rrs;
  getdns_list* section = nullptr;
  size_t rr_count = 0;
  if (getdns_dict_get_list(reply, "answer", &section) == GETDNS_RETURN_GOOD &&
      getdns_list_get_length(section, &rr_count) == GETDNS_RETURN_GOOD) {
    for (size_t i = 0; i < rr_count; ++i) {
      getdns_dict* rr = nullptr;
      Rr entry{0, 0, "", nullptr};
      getdns_bindata* owner = nullptr;
      if (getdns_list_get_dict(section, i, &rr) != GETDNS_RETURN_GOOD ||
          getdns_dict_get_int(rr, "type", &entry.type) != GETDNS_RETURN_GOOD ||
          getdns_dict_get_bindata(rr, "name", &owner) != GETDNS_RETURN_GOOD) {
        continue;
      }
      getdns_dict_get_int(rr, "ttl", &entry.ttl);
      entry.owner = NameFromWire(owner);
      entry.dict = rr;
      rrs.push_back(std::move(entry));
    }
  }
  constexpr int kMaxCnameChain = 16;
  const auto cname_at = [&](const std::string& owner) {
    return std::find_if(rrs.begin(), rrs.end(), [&](const Rr& rr) {
      return rr.type == GETDNS_RRTYPE_CNAME && rr.owner == owner;
    });
  };
  // A CNAME question is answered by the CNAME at the name itself, not
  // followed: its target becomes canonical_name.
  if (type != RrType::kCname) {
    for (int hop = 0; hop < kMaxCnameChain; ++hop) {
      const auto cname = cname_at(answer.canonical_name);
      if (cname == rrs.end()) break;
      getdns_bindata* target = nullptr;
      if (getdns_dict_get_bindata(cname->dict, "/rdata/cname", &target) != GETDNS_RETURN_GOOD) {
        break;
      }
      answer.canonical_name = NameFromWire(target);
    }
    // A chain that goes on past the limit (or loops) proves nothing: it is
    // a failed lookup, never "no record".
    if (cname_at(answer.canonical_name) != rrs.end()) {
      answer.status = LookupStatus::kFailure;
      answer.dnssec = DnssecState::kIndeterminate;
      answer.error = absl::StrCat("CNAME chain longer than ", kMaxCnameChain, " or looping");
      return answer;
    }
  }
  uint32_t min_ttl = std::numeric_limits<uint32_t>::max();
  const std::string owner = answer.canonical_name;
  size_t records = 0, undecodable = 0;
  for (const Rr& rr : rrs) {
    // Only records of the asked type at the end of the CNAME chain count.
    if (rr.type != static_cast<uint32_t>(type) || rr.owner != owner) continue;
    min_ttl = std::min(min_ttl, rr.ttl);
    ++records;
    if (!AddRecord(rr.dict, type, answer)) ++undecodable;
  }
  if (undecodable > 0) {
    if (type != RrType::kTlsa) {
      // A host or exchange that cannot be read: nothing can be decided.
      answer.status = LookupStatus::kFailure;
      answer.dnssec = DnssecState::kIndeterminate;
      answer.error = absl::StrCat(undecodable, " ", RrTypeName(type), " record(s) cannot be read");
      return answer;
    }
    // RFC 7671 §9: a TLSA record that cannot be read is unusable, never
    // absent; an RRset of only such records is not NODATA.
    answer.undecodable_records = undecodable;
  }
  const bool has_records = records > 0;
  if (answer.status != LookupStatus::kNxDomain) {
    answer.status = has_records ? LookupStatus::kOk : LookupStatus::kNoData;
  }
  if (!has_records) min_ttl = NegativeTtl(reply);
  answer.ttl = min_ttl == std::numeric_limits<uint32_t>::max() ? 0 : min_ttl;
  answer.valid_until = EarliestSignatureExpiry(reply);
  return answer;
}

DnsAnswer AnswerFromWire(const std::string& qname, RrType type, DnssecState dnssec,
                         const unsigned char* wire, size_t size) {
  DnsAnswer malformed;
  malformed.qname = qname;
  malformed.canonical_name = qname;
  malformed.error = "malformed DNS message";
  constexpr size_t kHeaderSize = 12;
  getdns_dict* raw = nullptr;
  if (wire == nullptr || size < kHeaderSize ||
      getdns_wire2msg_dict(wire, size, &raw) != GETDNS_RETURN_GOOD || raw == nullptr) {
    return malformed;
  }
  DictPtr reply(raw);
  // getdns reads a truncated message leniently (fewer records than the
  // header counts, or none): that must not read as "no record". A response
  // with one question and every counted record present, or nothing.
  uint32_t qr = 0, qdcount = 0;
  if (getdns_dict_get_int(reply.get(), "/header/qr", &qr) != GETDNS_RETURN_GOOD || qr != 1 ||
      getdns_dict_get_int(reply.get(), "/header/qdcount", &qdcount) != GETDNS_RETURN_GOOD ||
      qdcount != 1) {
    return malformed;
  }
  getdns_bindata* question = nullptr;
  uint32_t qtype = 0;
  if (getdns_dict_get_bindata(reply.get(), "/question/qname", &question) != GETDNS_RETURN_GOOD ||
      getdns_dict_get_int(reply.get(), "/question/qtype", &qtype) != GETDNS_RETURN_GOOD ||
      qtype != static_cast<uint32_t>(type)) {
    return malformed;
  }
  for (const auto& [section, count_name] :
       {std::pair{"answer", "/header/ancount"}, std::pair{"authority", "/header/nscount"}}) {
    uint32_t counted = 0;
    size_t present = 0;
    getdns_list* list = nullptr;
    if (getdns_dict_get_int(reply.get(), count_name, &counted) != GETDNS_RETURN_GOOD) {
      return malformed;
    }
    if (getdns_dict_get_list(reply.get(), section, &list) == GETDNS_RETURN_GOOD) {
      getdns_list_get_length(list, &present);
    }
    if (present != counted) return malformed;
  }
  return AnswerFromReply(qname, type, dnssec, reply.get());
}

}  // namespace danegate::dns
