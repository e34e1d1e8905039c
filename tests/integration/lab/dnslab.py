#!/usr/bin/python3
"""The DNSSEC lab: a real authoritative server (Knot DNS) serving zones
signed at start-up with fresh keys (ldns), and a real validating resolver
(Unbound) in front of it, both on loopback high ports.

Zones:
  test.               unsigned parent, delegates dane.test. with no DS
  dane.test.          signed (NSEC); its DS is the lab's trust anchor
  nsec3.dane.test.    signed with NSEC3, DS in the parent
  expired.dane.test.  signed with RRSIGs that expired in 2020 -> bogus
  badds.dane.test.    signed, the parent's DS does not match its key -> bogus
  insec.dane.test.    unsigned, no DS -> insecure
  soon.dane.test.     signed, its RRSIGs expire 12 hours after the lab starts
  servfail.dane.test. configured in Knot with no zone file -> SERVFAIL

Run standalone to keep a lab up for manual use:
  /usr/bin/python3 tests/integration/lab/dnslab.py --dir /tmp/lab
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import certs as certs_mod  # noqa: E402
import scenarios  # noqa: E402

SIGNED = ["dane.test", "nsec3.dane.test", "expired.dane.test", "badds.dane.test",
          "unsuppds.dane.test", "unsuppalg.dane.test", "soon.dane.test"]
START_TIMEOUT = 20.0


def free_port():
    """Returns a loopback port free for both UDP and TCP right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Daemon:
    """A child process whose output is collected line by line, so start-up
    can wait for the log lines that say it is ready."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def search(self, pattern):
        """Returns the first match of `pattern` in the log so far, or None."""
        regex = re.compile(pattern)
        with self.cond:
            for line in self.lines:
                m = regex.search(line)
                if m:
                    return m
        return None

    def count(self, pattern):
        """Returns how many log lines so far match `pattern`."""
        regex = re.compile(pattern)
        with self.cond:
            return sum(1 for line in self.lines if regex.search(line))

    def wait_for(self, patterns, timeout=START_TIMEOUT):
        """Blocks until every regex in `patterns` matched a log line."""
        pending = [re.compile(p) for p in patterns]
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while pending:
                for line in self.lines[seen:]:
                    pending = [p for p in pending if not p.search(line)]
                seen = len(self.lines)
                if not pending:
                    break
                if self.proc.poll() is not None and seen == len(self.lines):
                    raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n"
                                       + "".join(self.lines[-30:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{self.name} not ready; waiting for "
                                       f"{[p.pattern for p in pending]}:\n"
                                       + "".join(self.lines[-30:]))
                self.cond.wait(left)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)
        self.log.close()


class Blackhole:
    """A 'resolver' that accepts queries and never answers (UDP datagrams and
    TCP connections just queue in the kernel): the upstream-timeout case."""

    def __init__(self):
        self.port = free_port()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self.udp.close()
        self.tcp.close()


def run(argv, cwd=None):
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr}{out.stdout}")
    return out.stdout


class DnsLab:
    def __init__(self, directory, netns=None):
        """With `netns`, the daemons run in that network namespace and
        Unbound listens on port 53 there (for the namespace's resolv.conf)."""
        self.dir = os.path.abspath(directory)
        self.daemons = []
        self.blackhole = None
        self.netns = netns
        self.prefix = ["ip", "netns", "exec", netns] if netns else []
        self.ipv6 = have_ipv6_loopback()

    # --- paths and addresses for clients --------------------------------
    @property
    def resolver(self):
        return f"127.0.0.1:{self.unbound_port}"

    @property
    def resolver6(self):
        return f"[::1]:{self.unbound_port}" if self.ipv6 else None

    @property
    def trust_anchor(self):
        return os.path.join(self.dir, "trust-anchor.ds")

    def resolver_args(self, upstream=None):
        """danegate/danegated flags that resolve through this lab, with the
        resolver backend DANEGATE_RESOLVER names (default: the binary's)."""
        backend = os.environ.get("DANEGATE_RESOLVER")
        return ["--resolution=stub", f"--upstream={upstream or self.resolver}",
                f"--trust-anchor={self.trust_anchor}",
                *([f"--resolver={backend}"] if backend else [])]

    def trust_anchor_for_other_key(self, directory):
        """Writes a DS for dane.test. made from a fresh, unrelated key."""
        keydir = os.path.join(directory, "other-key")
        os.makedirs(keydir, exist_ok=True)
        base = os.path.join(keydir, run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k",
                                         "dane.test"], cwd=keydir).strip())
        path = os.path.join(directory, "wrong-anchor.ds")
        with open(path, "w") as f:
            f.write(self._ds(base) + "\n")
        return path

    # --- building -------------------------------------------------------
    def _keygen(self, zone):
        keydir = os.path.join(self.dir, "keys")
        base = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd=keydir).strip()
        return os.path.join(keydir, base)

    def _ds(self, keybase):
        """Returns the SHA-256 DS record (one line) for a key."""
        keydir = os.path.dirname(keybase)
        name = run(["ldns-key2ds", "-n", "-2", keybase + ".key"], cwd=keydir)
        return " ".join(name.split())

    def _write_zone(self, zone, records, ttl=300, serial=1):
        path = os.path.join(self.dir, "zones", f"{zone}.zone")
        with open(path, "w") as f:
            f.write(f"$ORIGIN {zone}.\n$TTL {ttl}\n")
            f.write(f"@ SOA ns.{zone}. hostmaster.{zone}. {serial} 3600 600 86400 60\n")
            f.write(f"@ NS ns.{zone}.\nns A 127.0.0.1\n")
            for r in records:
                f.write(r + "\n")
        return path

    def _sign(self, zone, path, key, nsec3=False, expired=False, validity=30 * 86400):
        argv = ["ldns-signzone", "-o", zone + ".", "-f", path + ".signed"]
        if nsec3:
            argv += ["-n", "-a", "1", "-t", "0", "-s", "abcd"]
        if expired:
            argv += ["-i", "20191201000000", "-e", "20200101000000"]
        else:
            now = int(time.time())
            argv += ["-i", str(now - 3600), "-e", str(now + validity)]
        run(argv + [path, key])
        os.replace(path + ".signed", path)

    def build(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        for sub in ("keys", "zones", "knot", "unbound"):
            os.makedirs(os.path.join(self.dir, sub))
        self.certs = certs_mod.CertSet(os.path.join(self.dir, "certs"))
        keys = {zone: self._keygen(zone) for zone in SIGNED}
        ds = {zone: self._ds(key) for zone, key in keys.items()}
        # A DS whose digest is wrong: the child's key is not in the DS.
        bad = ds["badds.dane.test"].split()
        bad[-1] = ("0" if bad[-1][0] != "0" else "1") + bad[-1][1:]
        ds["badds.dane.test"] = " ".join(bad)
        # A DS whose digest type no validator knows (200, unassigned): the
        # delegation is insecure (RFC 4035 §5.2, RFC 6840 §5.2), not bogus.
        unsupported = ds["unsuppds.dane.test"].split()
        unsupported[-2] = "200"
        ds["unsuppds.dane.test"] = " ".join(unsupported)
        # The same with an algorithm no validator knows (253, private use).
        unsupported = ds["unsuppalg.dane.test"].split()
        unsupported[-3] = "253"
        ds["unsuppalg.dane.test"] = " ".join(unsupported)

        children = ["nsec3", "expired", "badds", "insec", "servfail", "unsuppds", "unsuppalg",
                    "soon"]
        parent = scenarios.dane_test_records(self.certs)
        for child in children:
            parent.append(f"{child} NS ns.dane.test.")
            zone = f"{child}.dane.test"
            if zone in ds:
                parent.append(ds[zone].replace(zone + ".", child, 1))
        for child in ["nsec3", "expired", "badds", "insec", "unsuppds", "unsuppalg", "soon"]:
            zone = f"{child}.dane.test"
            path = self._write_zone(zone, scenarios.child_records(child, self.certs))
            if zone in keys:
                self._sign(zone, path, keys[zone], nsec3=child == "nsec3",
                           expired=child == "expired",
                           validity=12 * 3600 if child == "soon" else 30 * 86400)
        self.keys = keys
        self.parent_records = parent
        self.serial = 1
        self._sign("dane.test", self._write_zone("dane.test", parent), keys["dane.test"])
        self._write_zone("test", ["dane NS ns.test."])
        with open(self.trust_anchor, "w") as f:
            f.write(ds["dane.test"] + "\n")

    # --- running --------------------------------------------------------
    def _knot_conf(self):
        zones = ["test", "dane.test", "nsec3.dane.test", "expired.dane.test",
                 "badds.dane.test", "insec.dane.test", "servfail.dane.test",
                 "unsuppds.dane.test", "unsuppalg.dane.test", "soon.dane.test"]
        zdir = os.path.join(self.dir, "zones")
        kdir = os.path.join(self.dir, "knot")
        conf = f"""server:
    rundir: "{kdir}"
    listen: 127.0.0.1@{self.knot_port}
control:
    listen: "{kdir}/knot.sock"
log:
  - target: stdout
    any: info
database:
    storage: "{kdir}"
template:
  - id: default
    storage: "{zdir}"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
""" + "".join(f"  - domain: {z}.\n" for z in zones)
        path = os.path.join(kdir, "knot.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path, [z for z in zones if z != "servfail.dane.test"]

    def _unbound_conf(self):
        udir = os.path.join(self.dir, "unbound")
        v6 = f"    interface: ::1@{self.unbound_port}\n" if self.ipv6 else ""
        conf = f"""server:
    interface: 127.0.0.1@{self.unbound_port}
{v6}    do-ip6: {"yes" if self.ipv6 else "no"}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{udir}"
    pidfile: "{udir}/unbound.pid"
    use-syslog: no
    logfile: ""
    log-time-ascii: yes
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    do-not-query-localhost: no
    local-zone: "test." nodefault
    trust-anchor-file: "{self.trust_anchor}"
    qname-minimisation: no
    num-threads: 1
    cache-min-ttl: 0
    log-queries: yes
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{self.knot_port}
"""
        path = os.path.join(udir, "unbound.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self):
        self.build()
        self.knot_port = free_port()
        self.unbound_port = 53 if self.netns else free_port()
        knot_conf, loaded = self._knot_conf()
        knot = Daemon("knotd", self.prefix + ["knotd", "-c", knot_conf],
                      os.path.join(self.dir, "knot", "knotd.log"))
        self.daemons.append(knot)
        self.knot = knot
        knot.wait_for([r"server started"] +
                      [re.escape(f"[{z}.] loaded") for z in loaded])
        self.start_resolver()
        if not self.netns:
            self.blackhole = Blackhole()
        return self

    def start_resolver(self):
        unbound = Daemon("unbound", self.prefix + ["unbound", "-d", "-c", self._unbound_conf()],
                         os.path.join(self.dir, "unbound", "unbound.log"))
        self.unbound = unbound
        self.daemons.append(unbound)
        unbound.wait_for([r"start of service"])

    def update_dane_test(self, extra_records):
        """Re-signs dane.test. with `extra_records` added and has Knot load it;
        returns once Knot logged the new serial."""
        old = self.serial
        self.serial += 1
        path = self._write_zone("dane.test", self.parent_records + list(extra_records),
                                serial=self.serial)
        self._sign("dane.test", path, self.keys["dane.test"])
        run(["knotc", "-s", os.path.join(self.dir, "knot", "knot.sock"), "zone-reload",
             "dane.test."])
        self.knot.wait_for([re.escape("[dane.test.] loaded, serial ") + f"{old} -> {self.serial}"])

    def upstream_queries(self, name, qtype):
        """Returns how many queries for (name, type) Unbound has received."""
        return self.unbound.count(r"info: 127\.0\.0\.1 " + re.escape(name + ".") +
                                  r" " + qtype + r" IN")

    def stop_resolver(self):
        self.unbound.stop()
        self.daemons.remove(self.unbound)

    def stop(self):
        for d in reversed(self.daemons):
            d.stop()
        self.daemons = []
        if self.blackhole:
            self.blackhole.close()
            self.blackhole = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="/tmp/danegate-lab")
    args = parser.parse_args()
    lab = DnsLab(args.dir).start()
    print(f"lab up: resolver {lab.resolver}, trust anchor {lab.trust_anchor}")
    print(f"certificates in {lab.certs.dir}")
    print("resolver flags: " + " ".join(lab.resolver_args()), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    lab.stop()


if __name__ == "__main__":
    main()
