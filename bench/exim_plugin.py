#!/usr/bin/python3
"""How much time danegate_exim.so adds to an Exim delivery.

Delivers the same messages (to d-311.dane.test: DANE-EE 3 1 1, TLS 1.3 on
loopback, DNS from the lab) one at a time with `exim -M`, once through the
danegate router/transport and once through a plain smtp transport, and
prints per-delivery times and their difference. Also times the client
library's ResolvePolicy call on a cached channel (ctypes), the floor of what
the plugin adds per call.

  /usr/bin/python3 bench/exim_plugin.py [--messages N]
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"),
                os.path.join(ROOT, "tests", "integration", "lab")]
from exim_fixtures import EXIM_USER, Exim, EximEnv  # noqa: E402
from test_client_library import Answer  # noqa: E402


def plain_sender(env):
    return Exim(env, "sender-plain", f"""primary_hostname = sender.test
qualify_domain = sender.test
domainlist local_domains = sender.test
local_interfaces = 127.0.0.4
begin routers
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = plain_smtp
  self = send
  no_more
begin transports
plain_smtp:
  driver = smtp
  multi_domain = false
  connection_max_messages = 1
  tls_sni = $host
  hosts_require_tls = *
begin retry
* * F,1d,1m
""")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def time_deliveries(env, sender, n):
    ids = [env.submit("user@d-311.dane.test", sender=sender)[0] for _ in range(n)]
    times = []
    for mid in ids:
        start = time.perf_counter()
        sender.run("-M", mid)
        times.append(time.perf_counter() - start)
        assert not env.queued(mid, sender=sender), f"{mid} not delivered"
    return times


def client_call_figures(env, keep_channel, calls=300):
    """Times, in a fresh child process, loading the client library, its
    first call and the following calls (a fresh gRPC start each call by
    default; on one kept channel with keep_channel = true)."""
    import subprocess
    conf = env.write_client_conf(f"bench-{keep_channel}.conf", "127.0.0.1:50051", 2000)
    with open(conf, "a") as f:
        f.write(f"keep_channel = {'true' if keep_channel else 'false'}\n")
    code = f"""
import ctypes, time, sys
sys.path[:0] = {sys.path[:2]!r}
from test_client_library import Answer
t0 = time.perf_counter()
lib = ctypes.CDLL({os.path.join(ROOT, "build", "plugin", "libdanegate_client.so")!r}, ctypes.RTLD_LOCAL)
t1 = time.perf_counter()
f = lib.danegate_resolve_policy
f.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint, ctypes.POINTER(Answer)]
a = Answer()
f({conf.encode()!r}, b"d-311.dane.test", 25, ctypes.byref(a))
t2 = time.perf_counter()
ts = []
for _ in range({calls}):
    s = time.perf_counter(); f({conf.encode()!r}, b"d-311.dane.test", 25, ctypes.byref(a))
    ts.append(time.perf_counter() - s)
ts.sort()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3, ts[len(ts) // 2] * 1e3, ts[int(len(ts) * 0.99)] * 1e3)
"""
    out = subprocess.run([*env.prefix, sys.executable, "-c", code], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return [float(x) for x in out.stdout.split()]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    build = os.path.join(ROOT, "build")
    env = EximEnv(os.path.join(build, "service", "danegated"),
                  os.path.join(build, "plugin", "danegate_exim.so")).start()
    try:
        plain = plain_sender(env)
        # Warm every cache (danegated's and Unbound's) before timing.
        time_deliveries(env, env.sender, 2)
        time_deliveries(env, plain, 2)
        rows = []
        with_plugin = time_deliveries(env, env.sender, args.messages)
        without = time_deliveries(env, plain, args.messages)
        for name, t in [("with danegate", with_plugin), ("plain smtp", without)]:
            rows.append((name, statistics.mean(t), percentile(t, 50), percentile(t, 99)))
        print(f"Exim delivery of one message (exim -M, TLS 1.3, loopback), n={args.messages}")
        print(f"{'':16}{'mean ms':>10}{'p50 ms':>10}{'p99 ms':>10}")
        for name, mean, p50, p99 in rows:
            print(f"{name:16}{mean * 1e3:10.2f}{p50 * 1e3:10.2f}{p99 * 1e3:10.2f}")
        for keep in (False, True):
            load, first, p50, p99 = client_call_figures(env, keep)
            mode = ("keep_channel = true (daemons that never fork)" if keep else
                    "default: each call in a child process (forking hosts)")
            print(f"client library, {mode}: load {load:.1f} ms, first call {first:.1f} ms,"
                  f" next calls p50 {p50:.3f} ms, p99 {p99:.3f} ms")
        added = statistics.mean(with_plugin) - statistics.mean(without)
        print(f"added by the plugin per delivery: {added * 1e3:.2f} ms mean, "
              f"{(percentile(with_plugin, 50) - percentile(without, 50)) * 1e3:.2f} ms p50")
    finally:
        env.stop()


if __name__ == "__main__":
    main()
