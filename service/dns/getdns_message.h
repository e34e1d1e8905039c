// DNS messages as danegate reads them, with getdns's parser and dicts: the
// one place that turns a validated response into a DnsAnswer, shared by both
// resolver backends (GetdnsResolver, UnboundResolver), and the reading of
// trust-anchor files. With getdns_resolver.cc, the only code that includes
// getdns.
#ifndef DANEGATE_SERVICE_DNS_GETDNS_MESSAGE_H_
#define DANEGATE_SERVICE_DNS_GETDNS_MESSAGE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/dns/answer.h"

struct getdns_dict;
struct getdns_list;

namespace danegate::dns {

struct GetdnsListDeleter {
  void operator()(getdns_list* list) const;
};
using GetdnsListPtr = std::unique_ptr<getdns_list, GetdnsListDeleter>;

struct TrustAnchors {
  GetdnsListPtr records;    // the DS and DNSKEY records, as getdns dicts
  std::string first_owner;  // "." for the root
};

// Reads trust anchors (DS or DNSKEY lines, zone-file format) from `path`.
// InvalidArgument naming --trust-anchor for an unreadable file or one that
// holds no DS/DNSKEY record (getdns 1.6 would silently ignore it).
absl::StatusOr<TrustAnchors> ReadTrustAnchors(const std::string& path);

// Returns the answer to (qname, type) that `reply` (a getdns reply dict:
// header, answer and authority sections) gives, with `dnssec` as its state:
// the CNAME chain followed from qname (bounded), the records of `type` at
// its end, the TTL (RFC 2308 §5 for a denial) and the earliest RRSIG expiry.
DnsAnswer AnswerFromReply(const std::string& qname, RrType type, DnssecState dnssec,
                          getdns_dict* reply);

// The same for a DNS response in wire format (`size` bytes at `wire`);
// kFailure when it does not parse. The bytes are treated as hostile.
DnsAnswer AnswerFromWire(const std::string& qname, RrType type, DnssecState dnssec,
                         const unsigned char* wire, size_t size);

}  // namespace danegate::dns

#endif  // DANEGATE_SERVICE_DNS_GETDNS_MESSAGE_H_
