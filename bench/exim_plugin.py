#!/usr/bin/python3
"""How much time danegate_exim.so adds to an Exim delivery.

Delivers the same messages (to d-311.dane.test: DANE-EE 3 1 1, TLS 1.3 on
loopback, DNS from the lab) one at a time with `exim -M`, once through the
danegate router/transport and once through a plain smtp transport, and
prints per-delivery times (the two senders alternating), CPU time per delivery (Exim and its children)
and their difference, on each sending Exim build (Debian's GnuTLS exim4,
the OpenSSL one from scripts/install-test-exim-openssl.sh). Also the time
to load danegate_exim.so in a fresh process.

  /usr/bin/python3 bench/exim_plugin.py [--messages N]
"""
import argparse
import os
import resource
import shutil
import subprocess
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"),
                os.path.join(ROOT, "tests", "integration", "lab")]
from exim_fixtures import EXIM_BUILDS, Exim, EximEnv  # noqa: E402


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
""", binary=env.exim_bin)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def time_deliveries(env, senders, n):
    """Delivers n messages from each sender, one at a time and alternating
    between them (so that drift on the machine hits both alike); returns,
    per sender, (wall times, CPU seconds per delivery of Exim and all it
    ran)."""
    ids = {id(s): [env.submit("user@d-311.dane.test", sender=s)[0] for _ in range(n)]
           for s in senders}
    times = {id(s): [] for s in senders}
    cpu = {id(s): 0.0 for s in senders}
    for k in range(n):
        for sender in senders:
            mid = ids[id(sender)][k]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            sender.run("-M", mid)
            times[id(sender)].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[id(sender)] += (after.ru_utime + after.ru_stime - before.ru_utime
                                - before.ru_stime)
            assert not env.queued(mid, sender=sender), f"{mid} not delivered"
    return [(times[id(s)], cpu[id(s)] / n) for s in senders]


def load_times(so_path, runs=20):
    """Milliseconds to dlopen the plugin, each in a fresh process."""
    code = ("import ctypes, time; t = time.perf_counter(); ctypes.CDLL(%r); "
            "print((time.perf_counter() - t) * 1e3)" % so_path)
    return sorted(float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout) for _ in range(runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    build = os.path.join(ROOT, "build")
    so = os.path.join(build, "plugin", "danegate_exim.so")
    loads = load_times(so)
    print(f"danegate_exim.so load (dlopen, fresh process): p50 {loads[len(loads) // 2]:.3f} ms,"
          f" max {loads[-1]:.3f} ms")
    for build_name, exim in sorted(EXIM_BUILDS.items()):
        if shutil.which(exim) is None:
            print(f"{build_name}: no Exim at {exim}")
            continue
        env = EximEnv(os.path.join(build, "service", "danegated"), so,
                      os.path.join(build, "plugin", "danegate-agent"), exim).start()
        try:
            plain = plain_sender(env)
            # Warm every cache (danegated's and Unbound's) before timing.
            time_deliveries(env, [env.sender, plain], 2)
            (with_plugin, cpu_with), (without, cpu_without) = time_deliveries(
                env, [env.sender, plain], args.messages)
            print(f"\nExim ({build_name}) delivery of one message (exim -M, TLS 1.3, loopback),"
                  f" n={args.messages}")
            print(f"{'':16}{'mean ms':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms':>10}")
            for name, t, cpu in [("with danegate", with_plugin, cpu_with),
                                 ("plain smtp", without, cpu_without)]:
                print(f"{name:16}{statistics.mean(t) * 1e3:10.2f}{percentile(t, 50) * 1e3:10.2f}"
                      f"{percentile(t, 99) * 1e3:10.2f}{cpu * 1e3:10.2f}")
            print(f"added by danegate per delivery: "
                  f"{(statistics.mean(with_plugin) - statistics.mean(without)) * 1e3:.2f} ms mean, "
                  f"{(percentile(with_plugin, 50) - percentile(without, 50)) * 1e3:.2f} ms p50, "
                  f"{(cpu_with - cpu_without) * 1e3:.2f} ms CPU")
        finally:
            env.stop()


if __name__ == "__main__":
    main()
