#!/usr/bin/python3
"""Soak: does danegated's memory keep growing under sustained load?

Drives a real danegated (DNSSEC lab, default resolver backend) with
danegate-loadgen in rounds — cached ResolvePolicy, VerifyPeer 3 1 1, and
ResolvePolicy of names never seen (cache misses through the resolver) —
and reads VmRSS from /proc after each round. Prints RSS per round and the
slope of RSS against calls made after the first two rounds (warm-up: the
DNS cache, capped at 4000 answers here, fills with the new names), in MiB
per million calls: near zero when nothing leaks.

  /usr/bin/python3 bench/soak.py [--rounds 8] [--seconds 10]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"),
                os.path.join(ROOT, "tests", "integration", "lab")]
import dnslab  # noqa: E402
from service_fixtures import Danegated  # noqa: E402

BUILD = os.path.join(ROOT, "build")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def loadgen(target, rpc, domains, seconds, extra=()):
    out = subprocess.run(
        [os.path.join(BUILD, "bench", "danegate-loadgen"), f"--target={target}", f"--rpc={rpc}",
         f"--domains={','.join(domains)}", "--connections=4", "--inflight=64",
         f"--duration={seconds}s", "--warmup=0s", *extra],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def slope(points):
    """Least-squares slope of (x, y) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="danegate-soak-")
    lab = dnslab.DnsLab(os.path.join(work, "lab")).start()
    try:
        d = Danegated(os.path.join(BUILD, "service", "danegated"), os.path.join(work, "d"),
                      [*lab.resolver_args(), "--audit-log=", "--cache-max-entries=4000"])
        chain = lab.certs.chain_file("ee")
        cached = ["d-311.dane.test", "d-301.dane.test", "d-ta.dane.test", "insec.dane.test"]
        calls, points = 0, []
        print("| round | calls so far | DNS cache entries | RSS MiB |")
        print("|---|---|---|---|")
        for r in range(args.rounds):
            third = max(1, args.seconds // 3)
            calls += loadgen(d.address, "policy", cached, third)["calls"]
            calls += loadgen(d.address, "verify", ["d-311.dane.test"], third,
                             ["--mx=mx-311.dane.test", f"--chain={chain}"])["calls"]
            fresh = [f"soak{r}-{i}.insec.dane.test" for i in range(2000)]
            calls += loadgen(d.address, "policy", fresh, third)["calls"]
            rss = rss_mib(d.pid)
            entries = int(d.metric("danegate_cache_entries") or 0)
            print(f"| {r + 1} | {calls} | {entries} | {rss:.1f} |")
            if r > 1:
                points.append((calls / 1e6, rss))
        print(f"\nRSS slope after two rounds: {slope(points):.2f} MiB per million calls "
              f"({calls} calls in all)")
        d.stop()
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
