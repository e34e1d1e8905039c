"""A small fault-injecting DNS proxy for the tests: forwards queries (UDP
and TCP) to an upstream resolver, except where a rule says otherwise:
  --fail-after NAME:TYPE:N[:servfail|nxdomain]  answers the first N queries
      for (NAME, TYPE) normally, fails every later one: a name that breaks
      between two lookups of one process (an MTA's routing and transport);
  --fault TYPE:ACTION  for every query of TYPE ("*": all), for the first
      --fault-seconds after start (default: for ever): drop (no answer),
      delay=SECONDS, lose=FRACTION (drops that share of queries at random,
      as a lossy network does), servfail, refused, nxdomain (a forged denial), tamper
      (the real answer with its last byte changed: a broken signature or
      record), strip (the real answer without its RRSIG records).

Run as a program (e.g. inside a test's network namespace):
  dns_proxy.py --listen 127.0.0.53 [--port 53] --upstream 127.0.0.1:53 [rules]
It prints "listening PORT" once bound and one line per query:
  "query NAME TYPE answered|failed|ACTION"."""
import argparse
import random
import socket
import struct
import threading
import time

QTYPES = {"A": 1, "AAAA": 28, "MX": 15, "TLSA": 52, "DS": 43, "DNSKEY": 48, "CNAME": 5,
          "SOA": 6, "NS": 2}
RCODES = {"servfail": 2, "nxdomain": 3}


def parse_question(query):
    """Returns (lower-case name without the final dot, qtype) of a query."""
    labels, i = [], 12
    while i < len(query) and query[i] != 0:
        n = query[i]
        labels.append(query[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    qtype = struct.unpack("!H", query[i + 1:i + 3])[0] if i + 3 <= len(query) else 0
    return ".".join(labels), qtype, i + 5  # the end of the question section


def failure(query, rcode, question_end):
    """A response to `query` with `rcode`, the question echoed, no records."""
    flags = struct.unpack("!H", query[2:4])[0]
    flags = (flags | 0x8000 | 0x0080) & ~0x000F | rcode  # QR, RA, rcode
    return query[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + query[12:question_end]


def strip_rrsigs(response):
    """The response without RRSIG records in its answer and authority
    sections (names may be compressed: records are copied, not rewritten)."""
    qd, an, ns, ar = struct.unpack("!HHHH", response[4:12])
    i = 12
    for _ in range(qd):
        i = skip_name(response, i) + 4
    out, counts = [], [0, 0, 0]
    for section, count in enumerate((an, ns, ar)):
        for _ in range(count):
            start = i
            i = skip_name(response, i)
            rtype, _, _, rdlen = struct.unpack("!HHIH", response[i:i + 10])
            i += 10 + rdlen
            if rtype == 46 and section < 2:
                continue
            out.append(response[start:i])
            counts[section] += 1
    return (response[:6] + struct.pack("!HHH", *counts) +
            response[12:question_end(response)] + b"".join(out))


def skip_name(message, i):
    while True:
        n = message[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def question_end(message):
    i = 12
    for _ in range(struct.unpack("!H", message[4:6])[0]):
        i = skip_name(message, i) + 4
    return i


class DnsProxy:
    def __init__(self, listen_ip, upstream=("127.0.0.1", 53), port=53, faults=(),
                 fault_seconds=None):
        self.upstream = upstream
        self.rules = {}   # (name, qtype) -> [answers left, rcode name]
        self.faults = {QTYPES.get(t, 0) if t != "*" else "*": a for t, a in faults}
        self.fault_until = (time.monotonic() + fault_seconds) if fault_seconds else None
        self.seen = {}    # (name, qtype) -> queries seen
        self.lock = threading.Lock()
        # One port for UDP and TCP; with port 0, the first that is free for
        # both (another program may hold the TCP side of a free UDP port).
        for _ in range(50):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind((listen_ip, port))
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind((listen_ip, self.udp.getsockname()[1]))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
                if port != 0:
                    raise
        self.port = self.udp.getsockname()[1]
        self.tcp.listen(64)
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def fail_after(self, name, qtype, answers, rcode="servfail"):
        """Answers `answers` queries for (name, qtype), then fails them."""
        with self.lock:
            self.rules[(name.lower().rstrip("."), QTYPES[qtype])] = [answers, rcode]

    def queries(self, name, qtype):
        with self.lock:
            return self.seen.get((name.lower().rstrip("."), QTYPES[qtype]), 0)

    def _fault(self, qtype):
        if self.fault_until is not None and time.monotonic() > self.fault_until:
            return None
        return self.faults.get(qtype) or self.faults.get("*")

    def _answer(self, query, transport):
        """The reply to `query`, or None for no reply."""
        name, qtype, end = parse_question(query)
        with self.lock:
            self.seen[(name, qtype)] = self.seen.get((name, qtype), 0) + 1
            rule = self.rules.get((name, qtype))
            fail = rule is not None and rule[0] <= 0
            if rule is not None and rule[0] > 0:
                rule[0] -= 1
        fault = self._fault(qtype)
        print(f"query {name} {qtype} {fault or ('failed' if fail else 'answered')}", flush=True)
        if fail:
            return failure(query, RCODES[rule[1]], end)
        if fault == "drop":
            return None
        if fault and fault.startswith("lose=") and random.random() < float(fault.split("=", 1)[1]):
            return None
        if fault in ("servfail", "refused", "nxdomain"):
            return failure(query, {"servfail": 2, "refused": 5, "nxdomain": 3}[fault], end)
        if fault and fault.startswith("delay="):
            time.sleep(float(fault.split("=", 1)[1]))
        reply = transport(query)
        if fault == "tamper" and len(reply) > end:
            reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
        if fault == "strip":
            try:
                reply = strip_rrsigs(reply)
            except (IndexError, struct.error):
                pass
        return reply

    def _forward_udp(self, query):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(query, self.upstream)
            return s.recv(65535)

    def _forward_tcp(self, query):
        with socket.create_connection(self.upstream, timeout=5) as s:
            s.sendall(struct.pack("!H", len(query)) + query)
            data = b""
            while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    break
                data += chunk
            return data[2:]

    def _serve_udp(self):
        while True:
            try:
                query, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self._reply_udp, args=(query, peer), daemon=True).start()

    def _reply_udp(self, query, peer):
        try:
            reply = self._answer(query, self._forward_udp)
            if reply is not None:
                self.udp.sendto(reply, peer)
        except (OSError, IndexError, struct.error):
            pass

    def _serve_tcp(self):
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._reply_tcp, args=(conn,), daemon=True).start()

    def _reply_tcp(self, conn):
        with conn:
            try:
                conn.settimeout(10)
                head = conn.recv(2)
                length = struct.unpack("!H", head)[0]
                query = b""
                while len(query) < length:
                    chunk = conn.recv(length - len(query))
                    if not chunk:
                        return
                    query += chunk
                reply = self._answer(query, self._forward_tcp)
                if reply is not None:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, IndexError, struct.error):
                pass

    def stop(self):
        self.udp.close()
        self.tcp.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", default="127.0.0.1:53")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--fail-after", action="append", default=[])
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--fault-seconds", type=float, default=None)
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    faults = [tuple(f.split(":", 1)) for f in args.fault]
    proxy = DnsProxy(args.listen, (host, int(port)), args.port, faults, args.fault_seconds)
    for rule in args.fail_after:
        name, qtype, answers, *rcode = rule.split(":")
        proxy.fail_after(name, qtype, int(answers), *(rcode or ["servfail"]))
    print(f"listening {proxy.port}", flush=True)
    if args.fault_seconds:
        threading.Timer(args.fault_seconds, lambda: print("fault over", flush=True)).start()
    threading.Event().wait()  # until the test stops us


if __name__ == "__main__":
    main()
