"""A mail fleet in a network namespace for the MTA tests: the DNSSEC lab
with Unbound on port 53 (the namespace's resolv.conf points at it, so the
sending MTA's own MX lookups go through the lab), danegated, and two
receiving Exims (STARTTLS with a certificate chosen by SNI on 127.0.0.1/::1,
no STARTTLS on 127.0.0.2). exim_fixtures and postfix_fixtures add the
sending MTA."""
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from dnslab import Daemon, DnsLab
from service_fixtures import Danegated

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXIM_USER = "Debian-exim"

# Which certificate chain the TLS receiver presents for each SNI name.
RECEIVER_CHAINS = {
    "mx-311": "ee", "mx-301": "ee", "mx-312": "ee", "mx-mismatch": "ee", "mx-agility": "ee",
    "mx-ta": "ta", "mx-ta-full": "ta", "mx-ta-key": "ta_no_root", "mx-ta-notsent": "ta_no_root",
    "d-nomx": "ee",
    "mx-cname-target": "ee", "mx-plain2": "ee",
    "mx-ta-mitm": "ta2", "mx-ta2": "ta2", "mx-v6only": "ee",
}


def wait_for_line(path, pattern, timeout=20):
    """Blocks until a line of the file at `path` matches `pattern`."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                for line in f:
                    if regex.search(line):
                        return line
        time.sleep(0.02)
    tail = open(path, errors="replace").read()[-3000:] if os.path.exists(path) else "(no file)"
    raise TimeoutError(f"no line matching {pattern!r} in {path}:\n{tail}")


# Directories the mail namespaces of this session created (the leak check
# in conftest.py looks for processes working inside them).
SESSION_DIRS = []


def stop_pid(pid, timeout=10):
    """Ends process `pid` (SIGTERM, then SIGKILL) and waits until it is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return  # exited; its parent reaps it
        except FileNotFoundError:
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.02)


def chown_exim(*paths):
    pw = pwd.getpwnam(EXIM_USER)
    for p in paths:
        os.makedirs(p, exist_ok=True)
        os.chown(p, pw.pw_uid, pw.pw_gid)


class Agent(Daemon):
    """A running danegate-agent (under `prefix`, e.g. in a namespace),
    ready once it logs that it listens."""

    def __init__(self, binary, log_path, listen, server, ta_dir, extra=(), prefix=()):
        super().__init__("danegate-agent", [*prefix, binary, f"--listen={listen}",
                                              f"--server={server}", f"--ta-dir={ta_dir}", *extra],
                         log_path)
        self.wait_for([r'"msg":"listening"'])
        self.listening = json.loads(self.search(r'\{.*"msg":"listening".*\}').group(0))
        self.address = self.listening["address"]
        self.path = listen[len("unix:"):] if listen.startswith("unix:") else None

    def ready_count(self):
        """How often the channel to danegated has become ready."""
        return self.count(r'"msg":"validator connection".*"state":"ready"')

    def wait_validator_ready(self, seen):
        """Waits until the channel to danegated is ready again, after `seen`
        earlier times (ready_count() before the validator came back)."""
        with self.cond:
            while self.ready_count() <= seen:
                if not self.cond.wait(20):
                    raise TimeoutError("the agent did not reconnect to danegated")

    def lookups(self):
        """The agent's lookup log lines, parsed."""
        with self.cond:
            lines = list(self.lines)
        return [json.loads(l) for l in lines if '"msg":"lookup"' in l]


class Exim:
    """One Exim instance: its directories and its configuration."""

    def __init__(self, env, name, config_body, binary="exim4"):
        self.env = env
        self.binary = binary
        self.dir = os.path.join(env.dir, name)
        self.spool = os.path.join(self.dir, "spool")
        self.logdir = os.path.join(self.dir, "log")
        self.mail = os.path.join(self.dir, "mail")
        chown_exim(self.dir, self.spool, self.logdir, self.mail)
        self.conf = os.path.join(self.dir, "exim.conf")
        with open(self.conf, "w") as f:
            f.write(f"""exim_user = {EXIM_USER}
exim_group = {EXIM_USER}
spool_directory = {self.spool}
log_file_path = {self.logdir}/%slog
log_selector = +tls_certificate_verified +tls_peerdn +tls_sni +deliver_time
keep_environment =
""" + config_body)
        self.mainlog = os.path.join(self.logdir, "mainlog")

    def run(self, *args, stdin=None, timeout=60):
        return subprocess.run([*self.env.prefix, self.binary, "-C", self.conf, *args],
                              input=stdin, capture_output=True, text=True, timeout=timeout)

    def log(self):
        if not os.path.exists(self.mainlog):
            return ""
        with open(self.mainlog, errors="replace") as f:
            return f.read()


class MailNamespace:
    """The network namespace, the lab, danegated and the receivers; a
    subclass adds the sending MTA in _start_sender()."""

    def __init__(self, danegated_bin, name):
        # MTAs drop privileges: their directories must be reachable by their
        # users, which pytest's private temporary tree is not.
        self.dir = tempfile.mkdtemp(prefix=f"danegate-{name}-")
        SESSION_DIRS.append(self.dir)
        os.chmod(self.dir, 0o755)
        self.netns = f"dg{name}{os.getpid()}"
        self.prefix = ["ip", "netns", "exec", self.netns]
        self.danegated_bin = danegated_bin
        self.daemons = []
        self.counter = 0

    # --- set-up ------------------------------------------------------------
    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        subprocess.run([*self.prefix, "ip", "link", "set", "lo", "up"], check=True)
        self.etc = f"/etc/netns/{self.netns}"
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions edns0 attempts:1 timeout:2\n")
        self.lab = DnsLab(os.path.join(self.dir, "lab"), netns=self.netns).start()
        self.start_danegated()
        self._start_receivers()
        self._start_sender()
        return self

    def _start_sender(self):
        raise NotImplementedError

    def start_danegated(self, listen="127.0.0.1:50051", upstream="127.0.0.1:53", extra=()):
        """Starts a danegated in the namespace resolving through `upstream`;
        waits for SERVING unless the upstream is not the lab's resolver."""
        d = Danegated(self.danegated_bin, os.path.join(self.dir, f"danegated-{listen[-5:]}"),
                      [*self.lab.resolver_args(upstream), *extra], prefix=self.prefix,
                      listen=listen, wait_serving=upstream == "127.0.0.1:53")
        self.daemons.append(d)
        if listen == "127.0.0.1:50051":
            self.danegated = d
        return d

    def stop_danegated(self):
        self.danegated.terminate()
        self.daemons.remove(self.danegated)

    def _start_receivers(self):
        certs = os.path.join(self.dir, "receiver-certs")
        os.makedirs(certs, exist_ok=True)
        lab_certs = self.lab.certs
        for host, chain in list(RECEIVER_CHAINS.items()) + [("default", "other")]:
            name = "default" if host == "default" else f"{host}.dane.test"
            shutil.copy(lab_certs.chain_file(chain), os.path.join(certs, f"{name}.pem"))
            shutil.copy(lab_certs.key_file(chain), os.path.join(certs, f"{name}.key"))
        for f in os.listdir(certs):
            os.chmod(os.path.join(certs, f), 0o644)
        sni = "${sg{$tls_in_sni}{[^a-z0-9.-]}{}}"
        cert = (f"${{if exists{{{certs}/{sni}.pem}}{{{certs}/{sni}.pem}}{{{certs}/default.pem}}}}")
        key = (f"${{if exists{{{certs}/{sni}.key}}{{{certs}/{sni}.key}}{{{certs}/default.key}}}}")
        self.receivers = {}
        for name, interfaces, tls in [("receiver-tls", "<; 127.0.0.1.25 ; ::1.25", True),
                                      ("receiver-plain", "127.0.0.2.25", False)]:
            tls_conf = (f"tls_advertise_hosts = *\ntls_certificate = {cert}\n"
                        f"tls_privatekey = {key}\n") if tls else "tls_advertise_hosts =\n"
            exim = Exim(self, name, f"""primary_hostname = {name}.test
local_interfaces = {interfaces}
{tls_conf}acl_smtp_rcpt = acl_accept
begin acl
acl_accept:
  accept
begin routers
store:
  driver = accept
  transport = mailbox
begin transports
mailbox:
  driver = appendfile
  file = MAILDIR/mbox
  envelope_to_add
  user = {EXIM_USER}
""".replace("MAILDIR", os.path.join(self.dir, name, "mail")))
            daemon = Daemon(name, [*self.prefix, "exim4", "-C", exim.conf, "-bdf", "-odf"],
                            os.path.join(self.dir, f"{name}.out"))
            self.daemons.append(daemon)
            wait_for_line(exim.mainlog, "daemon started")
            self.receivers[name] = exim

    @contextlib.contextmanager
    def mta_dns_through_proxy(self, fail_after):
        """While active, the namespace's resolv.conf (what the MTAs use;
        danegated asks Unbound directly) points at a DNS proxy that forwards
        to the lab's Unbound but fails the queries `fail_after` names
        ("NAME:TYPE:N[:servfail|nxdomain]": after N answers). Yields it."""
        proxy = Daemon("dns-proxy", [*self.prefix, sys.executable,
                                     os.path.join(ROOT, "tests", "integration", "lab",
                                                  "dns_proxy.py"),
                                     "--listen=127.0.0.53", "--upstream=127.0.0.1:53",
                                     *[f"--fail-after={rule}" for rule in fail_after]],
                       os.path.join(self.dir, "dns-proxy.log"))
        resolv = os.path.join(self.etc, "resolv.conf")
        original = open(resolv).read()
        try:
            proxy.wait_for([r"^listening"])
            with open(resolv, "w") as f:
                f.write(original.replace("nameserver 127.0.0.1", "nameserver 127.0.0.53"))
            yield proxy
        finally:
            with open(resolv, "w") as f:
                f.write(original)
            proxy.stop()

    def stop(self):
        for d in reversed(self.daemons):
            d.stop()
        self.daemons = []
        if getattr(self, "lab", None):
            self.lab.stop()
        subprocess.run(["ip", "netns", "del", self.netns], check=False,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(f"/etc/netns/{self.netns}", ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- mail ------------------------------------------------------------
    def next_marker(self):
        self.counter += 1
        return f"danegate-test-{os.getpid()}-{self.counter}"
    def received(self, domain, marker, receiver=None):
        """True if a receiver stored message `marker` for a recipient at
        `domain` (in one mbox, told apart by their Envelope-to headers)."""
        names = [receiver] if receiver else list(self.receivers)
        for name in names:
            path = os.path.join(self.dir, name, "mail", "mbox")
            if not os.path.exists(path):
                continue
            for message in re.split(r"\n(?=From )", open(path, errors="replace").read()):
                if marker in message and re.search(r"Envelope-to: [^\n]*@" + re.escape(domain),
                                                   message):
                    return True
        return False
