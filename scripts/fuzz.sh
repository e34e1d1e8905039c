#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) into ./build-fuzz
# and runs each for a while (default 20 s; scripts/fuzz.sh SECONDS).
# Corpora grow in build-fuzz/corpus/; a crash fails the script.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-20}
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDANEGATE_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
cmake --build build-fuzz --target tlsa_text_fuzz mail_name_fuzz der_chain_fuzz json_string_fuzz \
  netstring_fuzz smtp_reply_fuzz exim_lookup_fuzz
# Seed the chain fuzzer with real chains (a self-signed leaf; CA -> leaf),
# framed as the target reads them: 2-byte big-endian length, then DER.
seeds=build-fuzz/corpus/der_chain
if [ ! -s "$seeds/leaf" ]; then
  mkdir -p "$seeds"
  tmp=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=mx.example.com -addext subjectAltName=DNS:mx.example.com \
    -keyout "$tmp/ca.key" -outform DER -out "$tmp/ca.der" 2>/dev/null
  /usr/bin/python3 - "$tmp/ca.der" "$seeds" <<'PY'
import struct, sys
der = open(sys.argv[1], "rb").read()
frame = struct.pack(">H", len(der)) + der
open(sys.argv[2] + "/leaf", "wb").write(frame)
open(sys.argv[2] + "/leaf2", "wb").write(frame * 2)
PY
  rm -rf "$tmp"
fi
# Seed the SMTP reply fuzzer with a real exchange's replies.
if [ ! -s build-fuzz/corpus/smtp_reply/ehlo ]; then
  mkdir -p build-fuzz/corpus/smtp_reply
  printf '220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 go ahead\r\n' \
    > build-fuzz/corpus/smtp_reply/ehlo
fi
# Seed the Exim request fuzzer with the two well-formed requests.
if [ ! -s build-fuzz/corpus/exim_lookup/verify ]; then
  mkdir -p build-fuzz/corpus/exim_lookup
  printf 'exim_policy example.org 25' > build-fuzz/corpus/exim_lookup/policy
  printf 'exim_verify example.org mx.example.org 25 MAMCAQE= MAMCAQI=' \
    > build-fuzz/corpus/exim_lookup/verify
fi
for target in tlsa_text mail_name der_chain json_string netstring smtp_reply exim_lookup; do
  mkdir -p "build-fuzz/corpus/$target"
  echo "fuzzing $target for ${seconds}s"
  "build-fuzz/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -max_len=8192 \
    -print_final_stats=0 "build-fuzz/corpus/$target" 2>&1 | tail -2
done
