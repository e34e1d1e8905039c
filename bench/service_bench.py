#!/usr/bin/python3
"""danegated throughput and latency against the DNSSEC lab, as ratios of the
empty-RPC ceiling measured in the same run, plus the cold path, coalescing
and cache memory. Prints a Markdown table.

  /usr/bin/python3 bench/service_bench.py [--duration 5s] [--inflight 64]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"),
                os.path.join(ROOT, "tests", "integration", "lab")]
import dnslab  # noqa: E402
from service_fixtures import Danegated, generate_stubs  # noqa: E402

BUILD = os.path.join(ROOT, "build")
LOADGEN = os.path.join(BUILD, "bench", "danegate-loadgen")
CACHED_DOMAINS = ["d-311.dane.test", "d-301.dane.test", "d-312.dane.test", "d-ta.dane.test",
                  "d-notlsa.dane.test", "insec.dane.test", "d-unusable.dane.test",
                  "d-cname-mx.dane.test"]


# The setup by default: client and server share the machine's cores.
# --pin puts danegated on CPU 0 and the load generator on CPU 1 (separates
# the client's work from the server's, at the price of one core each).
PIN = "--pin" in sys.argv
SERVER_PREFIX = ["taskset", "-c", "0"] if PIN else []
CLIENT_PREFIX = ["taskset", "-c", "1"] if PIN else []


def cpu_seconds(pid):
    """User + system CPU time of process `pid` so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid):
    """Context switches of every thread of process `pid` so far."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if "ctxt_switches:" in line:  # voluntary and nonvoluntary
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # the thread ended
    return total


def children_cpu_seconds():
    t = os.times()
    return t.children_user + t.children_system


def loadgen(target, rpc, args, extra=(), server_pid=None):
    """Runs the load generator; adds the server's and the client's CPU time
    per call (µs) when `server_pid` is given."""
    server0, client0 = (cpu_seconds(server_pid) if server_pid else 0), children_cpu_seconds()
    switches0 = context_switches(server_pid) if server_pid else 0
    out = subprocess.run([*CLIENT_PREFIX, LOADGEN, f"--target={target}", f"--rpc={rpc}",
                          f"--duration={args.duration}", f"--inflight={args.inflight}",
                          f"--connections={args.connections}", *extra],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    calls = max(1, result["calls"] + result["errors"])
    if server_pid:
        result["server_us"] = (cpu_seconds(server_pid) - server0) / calls * 1e6
        result["server_switches"] = (context_switches(server_pid) - switches0) / calls
    result["client_us"] = (children_cpu_seconds() - client0) / calls * 1e6
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3,
                        help="repetitions of the table (medians reported)")
    parser.add_argument("--pin", action="store_true",
                        help="danegated on CPU 0, load generator on CPU 1")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="danegate-bench-")
    lab = dnslab.DnsLab(os.path.join(work, "lab")).start()
    daemons = []
    try:
        danegated = os.path.join(BUILD, "service", "danegated")
        d = Danegated(danegated, os.path.join(work, "d"), [*lab.resolver_args(), "--audit-log="],
                      prefix=SERVER_PREFIX)
        daemons.append(d)
        ee = lab.certs.chain_file("ee")
        ta = lab.certs.chain_file("ta")
        # Warm the cache for every domain used below.
        for dom in CACHED_DOMAINS:
            subprocess.run([os.path.join(BUILD, "service", "danegate"), "policy",
                            f"--server={d.address}", dom], capture_output=True)
        workloads = [
            ("empty RPC (health Check)", "health", []),
            ("ResolvePolicy, cached", "policy", [f"--domains={','.join(CACHED_DOMAINS)}"]),
            ("VerifyPeer 3 1 1, cached", "verify",
             ["--domains=d-311.dane.test", "--mx=mx-311.dane.test", f"--chain={ee}"]),
            ("VerifyPeer 2 1 1, 3-cert chain", "verify",
             ["--domains=d-ta.dane.test", "--mx=mx-ta.dane.test", f"--chain={ta}"]),
        ]
        # Each repetition measures its own ceiling; ratios are taken within a
        # repetition, then the median over repetitions is reported.
        runs = []
        for _ in range(args.repeat):
            runs.append({name: loadgen(d.address, rpc, args, extra, server_pid=d.pid)
                         for name, rpc, extra in workloads})
        rows = []
        for name, _, _ in workloads:
            results = [run[name] for run in runs]
            ratios = sorted(run[name]["rps"] / run[workloads[0][0]]["rps"] for run in runs)
            median = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
            rows.append((name, dict(median, ratio=ratios[len(ratios) // 2],
                                    ratio_min=ratios[0], ratio_max=ratios[-1])))
        ceiling = rows[0][1]
        # Cold: no cache in danegated, every decision goes to the lab resolver.
        cold = Danegated(danegated, os.path.join(work, "cold"),
                         [*lab.resolver_args(), "--audit-log=", "--cache-max-entries=0"],
                         prefix=SERVER_PREFIX)
        daemons.append(cold)
        before = lab.unbound.count(r"info: 127\.0\.0\.1 ")
        cold_row = loadgen(cold.address, "policy", args, [f"--domains={','.join(CACHED_DOMAINS)}"],
                           server_pid=cold.pid)
        queries = lab.unbound.count(r"info: 127\.0\.0\.1 ") - before
        rows.append(("ResolvePolicy, cold (no cache)",
                     dict(cold_row, ratio=cold_row["rps"] / ceiling["rps"],
                          ratio_min=None, ratio_max=None)))

        where = ("danegated pinned to CPU 0, load generator to CPU 1" if PIN else
                 "client and server sharing the cores")
        print(f"danegated on loopback, {where}, {args.connections} connections, "
              f"{args.inflight} calls in flight, {args.duration} per row\n")
        print(f"median of {args.repeat} repetition(s); × ceiling: median [min–max] of the "
              "per-repetition ratios\n")
        print("| workload | RPS | × ceiling | p50 µs | p90 µs | p99 µs | p99.9 µs | errors | "
              "server CPU µs/call | client CPU µs/call | server context switches/call |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, r in rows:
            spread = (f" [{r['ratio_min']:.2f}–{r['ratio_max']:.2f}]"
                      if r["ratio_min"] is not None and args.repeat > 1 else "")
            print(f"| {name} | {r['rps']:.0f} | {r['ratio']:.2f}{spread} | "
                  f"{r['p50_us']:.0f} | {r['p90_us']:.0f} | {r['p99_us']:.0f} | "
                  f"{r['p999_us']:.0f} | {r['errors']} | {r['server_us']:.1f} | "
                  f"{r['client_us']:.1f} | {r['server_switches']:.2f} |")
        calls = cold_row["calls"] + cold_row["errors"]
        print(f"\ncold path: {queries} queries reached the lab resolver for about {calls} "
              f"measured decisions (+ warm-up): {queries / max(1, calls):.1f} per decision "
              "(MX; A, AAAA and TLSA only for hosts behind a secure MX; getdns keeps "
              "the DNSKEY/DS it validated with)")

        # Latency at a tenth, a quarter and half the ceiling's rate, open loop.
        for fraction, name, rpc, extra in [
                (0.1, "ResolvePolicy cached", "policy",
                 [f"--domains={','.join(CACHED_DOMAINS)}"]),
                (0.25, "ResolvePolicy cached", "policy",
                 [f"--domains={','.join(CACHED_DOMAINS)}"]),
                (0.5, "ResolvePolicy cached", "policy",
                 [f"--domains={','.join(CACHED_DOMAINS)}"]),
                (0.5, "VerifyPeer 3 1 1 cached", "verify",
                 ["--domains=d-311.dane.test", "--mx=mx-311.dane.test", f"--chain={ee}"])]:
            rate = ceiling["rps"] * fraction
            r = loadgen(d.address, rpc, argparse.Namespace(
                duration=args.duration, inflight=256, connections=args.connections),
                [*extra, f"--rate={rate:.0f}"], server_pid=d.pid)
            print(f"{name} at {fraction} × the ceiling ({rate:.0f} RPS offered, open loop): "
                  f"{r['rps']:.0f} RPS, p50 {r['p50_us']:.0f} µs, p99 {r['p99_us']:.0f} µs, "
                  f"p99.9 {r['p999_us']:.0f} µs; per call: server {r['server_us']:.0f} µs CPU "
                  f"and {r['server_switches']:.1f} context switches, client {r['client_us']:.0f}"
                  " µs CPU")

        # Coalescing: 1000 concurrent requests for one uncached domain.
        generate_stubs(os.path.join(work, "stubs"))
        import grpc
        from danegate.v1 import validator_pb2 as pb, validator_pb2_grpc as rpc
        names = [("d-coalesce.dane.test", "MX"), ("mx-coalesce.dane.test", "A"),
                 ("mx-coalesce.dane.test", "AAAA"), ("_25._tcp.mx-coalesce.dane.test", "TLSA")]
        counts = {n: lab.upstream_queries(*n) for n in names}
        with grpc.insecure_channel(d.address) as channel:
            stub = rpc.ValidatorStub(channel)
            req = pb.ResolvePolicyRequest(domain="d-coalesce.dane.test")
            futures = [stub.ResolvePolicy.future(req, timeout=60) for _ in range(1000)]
            ok = sum(1 for f in futures if f.result().action == pb.ACTION_DELIVER)
        after = {f"{n} {t}": lab.upstream_queries(n, t) - counts[(n, t)] for n, t in names}
        print(f"coalescing: 1000 concurrent ResolvePolicy (d-coalesce.dane.test), {ok} answered; "
              f"upstream queries per (name, type): {after}")
    finally:
        for x in daemons:
            x.stop()
        lab.stop()

    for n in (100_000, 1_000_000):
        out = subprocess.run([os.path.join(BUILD, "bench", "danegate-cache-memory"), str(n)],
                             capture_output=True, text=True, check=True)
        m = json.loads(out.stdout)
        print(f"cache memory: {m['entries']} RRsets: +{m['rss_growth_bytes'] / 2**20:.0f} MiB "
              f"resident, {m['bytes_per_rrset']} bytes per RRset")


if __name__ == "__main__":
    main()
