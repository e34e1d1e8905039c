#!/usr/bin/python3
"""The lookup latency Postfix sees: socketmap queries to danegate-postfix,
which asks danegated (DNSSEC lab, cached answers) over gRPC. Each client is
one connection asking one query at a time, as one smtp(8) process does.
Prints a Markdown table of p50/p90/p99 per query, in microseconds, and the
same figures for the RPC alone (danegate-loadgen, 1 call in flight) so the
adapter's share can be read off.

  /usr/bin/python3 bench/postfix_lookup.py [--queries 5000] [--clients 1,8]
"""
import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"),
                os.path.join(ROOT, "tests", "integration", "lab")]
import dnslab  # noqa: E402
from service_fixtures import Danegated  # noqa: E402

BUILD = os.path.join(ROOT, "build")
DOMAINS = ["d-311.dane.test", "d-301.dane.test", "d-ta-key.dane.test", "insec.dane.test",
           "d-unusable.dane.test", "d-bogus-second.dane.test"]


def netstring(text):
    data = text.encode()
    return str(len(data)).encode() + b":" + data + b","


def client(path, queries, out=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    requests = [netstring(f"tls_policy {DOMAINS[i % len(DOMAINS)]}") for i in range(queries)]
    latencies = []
    for request in requests:
        start = time.perf_counter()
        s.sendall(request)
        buf = b""
        while True:
            buf += s.recv(65536)
            length, _, rest = buf.partition(b":")
            if length and len(rest) >= int(length) + 1:
                break
        latencies.append(time.perf_counter() - start)
        assert rest.startswith(b"OK "), rest
    s.close()
    if out is not None:
        out.extend(latencies)
    return latencies


def percentiles(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1e6  # noqa: E731
    return pick(0.5), pick(0.9), pick(0.99)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=5000, help="per client")
    parser.add_argument("--clients", default="1,8")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="danegate-bench-postfix-")
    lab = dnslab.DnsLab(os.path.join(work, "lab")).start()
    daemons = []
    adapter = None
    try:
        d = Danegated(os.path.join(BUILD, "service", "danegated"), os.path.join(work, "d"),
                      lab.resolver_args())
        daemons.append(d)
        path = os.path.join(work, "socketmap.sock")
        # The adapter logs one line per lookup: to a file, as to journald,
        # not through this process (which would compete with the clients).
        log = open(os.path.join(work, "adapter.log"), "w")
        adapter = subprocess.Popen([
            os.path.join(BUILD, "plugin", "danegate-postfix"), f"--listen=unix:{path}",
            f"--server={d.address}", f"--ta-dir={work}/ta"], stdout=log, stderr=log)
        while not os.path.exists(path):
            if adapter.poll() is not None:
                raise RuntimeError(open(os.path.join(work, "adapter.log")).read())
            time.sleep(0.01)
        client(path, 2 * len(DOMAINS))  # warm danegated's cache and the channel
        print("| clients (connections) | queries | socketmap p50 µs | p90 µs | p99 µs | "
              "gRPC alone p50 µs | p99 µs |")
        print("|---|---|---|---|---|---|---|")
        for n in [int(c) for c in args.clients.split(",")]:
            # One process per client, like Postfix's smtp processes.
            with multiprocessing.Pool(n) as pool:
                latencies = [x for part in pool.starmap(client, [(path, args.queries)] * n)
                             for x in part]
            rpc = json.loads(subprocess.run(
                [os.path.join(BUILD, "bench", "danegate-loadgen"), f"--target={d.address}",
                 "--rpc=policy", "--duration=3s", f"--inflight={n}", "--connections=1",
                 "--domains=" + ",".join(DOMAINS)],
                capture_output=True, text=True, check=True).stdout)
            p50, p90, p99 = percentiles(latencies)
            print(f"| {n} | {len(latencies)} | {p50:.0f} | {p90:.0f} | {p99:.0f} | "
                  f"{rpc['p50_us']:.0f} | {rpc['p99_us']:.0f} |")
    finally:
        if adapter is not None:
            adapter.terminate()
            adapter.wait()
        for daemon in reversed(daemons):
            daemon.stop()
        lab.stop()


if __name__ == "__main__":
    main()
