#!/usr/bin/python3
"""The lookup latency the MTAs see: socketmap queries to danegate-agent,
which asks danegated (DNSSEC lab, cached answers) over gRPC. Per table:
Postfix's tls_policy, and the Exim plugin's exim_policy and exim_verify (a
DANE-EE chain, as the tls:cert event hands it over). A Postfix client is one
connection asking one query at a time, as one smtp(8) process does; an Exim
client calls danegate_exim.so itself (ctypes), which connects per call. Prints a
Markdown table of p50/p90/p99 per query, in microseconds, and the same
figures for the ResolvePolicy RPC alone (danegate-loadgen, as many calls in
flight as clients) so the agent's share can be read off.

  /usr/bin/python3 bench/agent_lookup.py [--queries 5000] [--clients 1,8]
"""
import base64
import argparse
import ctypes
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


def plugin_client(path, table, chain_b64, queries):
    """Calls danegate_exim.so as Exim would; returns the latencies."""
    lib = ctypes.CDLL(os.path.join(BUILD, "plugin", "danegate_exim.so"))
    name = "danegate_policy" if table == "exim_policy" else "danegate_verify"
    f = getattr(lib, name)
    f.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    if table == "exim_policy":
        argv = [path, "d-311.dane.test", "25", "5000"]
    else:
        argv = [path, "d-311.dane.test", "mx-311.dane.test", "25", "0", chain_b64, "5000"]
    args = (ctypes.c_char_p * len(argv))(*[a.encode() for a in argv])
    result = ctypes.c_char_p()
    latencies = []
    for _ in range(queries):
        start = time.perf_counter()
        f(ctypes.byref(result), len(argv), args)
        latencies.append(time.perf_counter() - start)
        assert result.value in (b"", b"||mx-311.dane.test=mx-311.dane.test"), result.value
    return latencies


def client(path, table, chain_b64, queries):
    """Asks `queries` questions of `table`; returns their latencies."""
    if table.startswith("exim_"):
        return plugin_client(path, table, chain_b64, queries)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    latencies = []
    for request in [f"tls_policy {DOMAINS[i % len(DOMAINS)]}" for i in range(queries)]:
        start = time.perf_counter()
        s.sendall(netstring(request))
        buf = b""
        while True:
            buf += s.recv(65536)
            length, _, rest = buf.partition(b":")
            if length and len(rest) >= int(length) + 1:
                break
        latencies.append(time.perf_counter() - start)
        assert rest.startswith(b"OK "), rest
    s.close()
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
    parser.add_argument("--tables", default="tls_policy,exim_policy,exim_verify")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="danegate-bench-postfix-")
    lab = dnslab.DnsLab(os.path.join(work, "lab")).start()
    daemons = []
    agent = None
    try:
        chain_b64 = base64.b64encode(lab.certs.chains["ee"][0].der()).decode()  # one leaf
        d = Danegated(os.path.join(BUILD, "service", "danegated"), os.path.join(work, "d"),
                      lab.resolver_args())
        daemons.append(d)
        path = os.path.join(work, "agent.sock")
        # The agent logs one line per lookup: to a file, as to journald,
        # not through this process (which would compete with the clients).
        log = open(os.path.join(work, "agent.log"), "w")
        agent = subprocess.Popen([
            os.path.join(BUILD, "plugin", "danegate-agent"), f"--listen=unix:{path}",
            f"--server={d.address}", f"--ta-dir={work}/ta"], stdout=log, stderr=log)
        while not os.path.exists(path):
            if agent.poll() is not None:
                raise RuntimeError(open(os.path.join(work, "agent.log")).read())
            time.sleep(0.01)
        tables = args.tables.split(",")
        for table in tables:  # warm danegated's caches and the channel
            client(path, table, chain_b64, 2 * len(DOMAINS))
        print("| table | clients | queries | agent p50 µs | p90 µs | p99 µs | "
              "gRPC alone p50 µs | p99 µs |")
        print("|---|---|---|---|---|---|---|---|")
        for n in [int(c) for c in args.clients.split(",")]:
            rpc = json.loads(subprocess.run(
                [os.path.join(BUILD, "bench", "danegate-loadgen"), f"--target={d.address}",
                 "--rpc=policy", "--duration=3s", f"--inflight={n}", "--connections=1",
                 "--domains=" + ",".join(DOMAINS)],
                capture_output=True, text=True, check=True).stdout)
            for table in tables:
                # One process per client, like the MTAs' processes.
                with multiprocessing.Pool(n) as pool:
                    latencies = [x for part in pool.starmap(
                        client, [(path, table, chain_b64, args.queries)] * n) for x in part]
                p50, p90, p99 = percentiles(latencies)
                print(f"| {table} | {n} | {len(latencies)} | {p50:.0f} | {p90:.0f} | {p99:.0f} | "
                      f"{rpc['p50_us']:.0f} | {rpc['p99_us']:.0f} |")
    finally:
        if agent is not None:
            agent.terminate()
            agent.wait()
        for daemon in reversed(daemons):
            daemon.stop()
        lab.stop()


if __name__ == "__main__":
    main()
