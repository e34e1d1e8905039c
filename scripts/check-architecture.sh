#!/bin/sh
# Fails if a pure module includes an adapter library: service/policy,
# service/tlsa/record, the dns value types and danegate-agent's framing
# parsers may use Abseil only
# (DESIGN.md: the RFC logic is pure; I/O stays at the edges).
set -eu
cd "$(dirname "$0")/.."
pure="service/policy service/tlsa/record.h service/tlsa/record.cc service/tlsa/match_result.h
      service/dns/answer.h service/dns/answer.cc service/dns/name.h service/dns/name.cc
      service/dns/resolver.h service/dns/resolver_config.h service/dns/resolver_config.cc
      plugin/agent/netstring.h plugin/agent/netstring.cc plugin/agent/map_reply.h plugin/agent/map_reply.cc
      plugin/postfix/smtp_reply.h plugin/postfix/smtp_reply.cc"
bad=$(grep -rnE '#include [<"](getdns|openssl|grpc|grpcpp|google/protobuf|danegate/v1)' $pure || true)
if [ -n "$bad" ]; then
  echo "pure modules include adapter libraries:"
  echo "$bad"
  exit 1
fi
# getdns only in service/dns/getdns_*; libunbound only in
# service/dns/unbound_resolver.*; OpenSSL only in service/tlsa.
bad=$(grep -rlE '#include [<"]getdns' service | grep -vE '^service/dns/getdns_(resolver|message)\.' || true)
bad="$bad$(grep -rlE '#include [<"]unbound' service | grep -v '^service/dns/unbound_resolver\.' || true)"
bad="$bad$(grep -rlE '#include [<"]openssl' service | grep -v '^service/tlsa/' || true)"
if [ -n "$bad" ]; then
  echo "getdns, libunbound or OpenSSL included outside its module: $bad"
  exit 1
fi
echo "architecture: ok"
