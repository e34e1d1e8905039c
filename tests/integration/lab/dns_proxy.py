"""A small DNS proxy for the tests: forwards queries (UDP and TCP) to an
upstream resolver, except that for chosen (name, type) pairs it answers the
first N queries normally and every later one with a failure (SERVFAIL or
NXDOMAIN). That is a name that breaks between two lookups of one process,
e.g. between an MTA's routing and its transport.

Run as a program (e.g. inside a test's network namespace):
  dns_proxy.py --listen 127.0.0.53 --upstream 127.0.0.1:53 \
      --fail-after NAME:TYPE:N[:servfail|nxdomain] ...
It prints "listening" once bound and one line per query:
  "query NAME TYPE answered|failed"."""
import argparse
import socket
import struct
import threading

QTYPES = {"A": 1, "AAAA": 28, "MX": 15, "TLSA": 52}
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


class DnsProxy:
    def __init__(self, listen_ip, upstream=("127.0.0.1", 53), port=53):
        self.upstream = upstream
        self.rules = {}   # (name, qtype) -> [answers left, rcode name]
        self.seen = {}    # (name, qtype) -> queries seen
        self.lock = threading.Lock()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((listen_ip, port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((listen_ip, port))
        self.tcp.listen(16)
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

    def _answer(self, query, transport):
        name, qtype, end = parse_question(query)
        with self.lock:
            self.seen[(name, qtype)] = self.seen.get((name, qtype), 0) + 1
            rule = self.rules.get((name, qtype))
            fail = rule is not None and rule[0] <= 0
            if rule is not None and rule[0] > 0:
                rule[0] -= 1
        print(f"query {name} {qtype} {'failed' if fail else 'answered'}", flush=True)
        if fail:
            return failure(query, RCODES[rule[1]], end)
        return transport(query)

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
            try:
                self.udp.sendto(self._answer(query, self._forward_udp), peer)
            except OSError:
                pass

    def _serve_tcp(self):
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(5)
                    head = conn.recv(2)
                    length = struct.unpack("!H", head)[0]
                    query = b""
                    while len(query) < length:
                        query += conn.recv(length - len(query))
                    reply = self._answer(query, self._forward_tcp)
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, struct.error):
                    pass

    def stop(self):
        self.udp.close()
        self.tcp.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", default="127.0.0.1:53")
    parser.add_argument("--fail-after", action="append", default=[])
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    proxy = DnsProxy(args.listen, (host, int(port)))
    for rule in args.fail_after:
        name, qtype, answers, *rcode = rule.split(":")
        proxy.fail_after(name, qtype, int(answers), *(rcode or ["servfail"]))
    print("listening", flush=True)
    threading.Event().wait()  # until the test stops us


if __name__ == "__main__":
    main()
