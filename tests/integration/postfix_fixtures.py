"""The sending Postfix 3.7 for the Postfix end-to-end tests, in the mail
namespace of mail_fixtures: Debian's Postfix unpacked into a private prefix
(scripts/install-test-postfix.sh), configured with the shipped main.cf
snippet from plugin/postfix, asking a real danegate-agent that asks the
namespace's danegated."""
import os
import pwd
import re
import shutil
import subprocess

from dnslab import Daemon
from mail_fixtures import ROOT, Agent, MailNamespace, stop_pid, wait_for_line

POSTFIX_PREFIX = os.environ.get("DANEGATE_POSTFIX_PREFIX", "/opt/danegate-test/postfix")
POSTFIX_LIBS = os.path.join(POSTFIX_PREFIX, "usr/lib/postfix")

MASTER_CF = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix_installed():
    return os.access(os.path.join(POSTFIX_PREFIX, "usr/sbin/postfix"), os.X_OK)


class PostfixEnv(MailNamespace):
    def __init__(self, danegated_bin, adapter_bin):
        super().__init__(danegated_bin, "postfix")
        self.adapter_bin = adapter_bin
        self.adapter_port = 0

    # --- set-up ------------------------------------------------------------
    def _start_sender(self):
        # smtp(8) runs chrooted in the queue directory, as on Debian, with
        # the files Debian's start script copies in; the agent writes the
        # trust-anchor files inside it (docs/postfix.md's layout).
        self.queue = os.path.join(self.dir, "queue")
        os.makedirs(os.path.join(self.queue, "etc"))
        for name in ("services", "hosts", "nsswitch.conf", "host.conf"):
            if os.path.exists(os.path.join("/etc", name)):
                shutil.copy(os.path.join("/etc", name), os.path.join(self.queue, "etc", name))
        shutil.copy(os.path.join(self.etc, "resolv.conf"),
                    os.path.join(self.queue, "etc", "resolv.conf"))
        self.start_adapter()
        self.conf = os.path.join(self.dir, "postfix")
        self.maillog = os.path.join(self.dir, "maillog")
        os.makedirs(self.conf)
        snippet = open(os.path.join(ROOT, "plugin", "postfix", "main.cf.example")).read()
        snippet = snippet.replace("127.0.0.1:10027", self.adapter.address)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.dir}/queue
data_directory = {self.dir}/data
command_directory = {POSTFIX_PREFIX}/usr/sbin
daemon_directory = {POSTFIX_PREFIX}/usr/lib/postfix/sbin
shlib_directory = {POSTFIX_LIBS}
meta_directory = {POSTFIX_PREFIX}/etc/postfix
sendmail_path = {POSTFIX_PREFIX}/usr/sbin/sendmail
mail_owner = postfix
setgid_group = postdrop
maillog_file = {self.maillog}
maillog_file_prefixes = {self.dir}
myhostname = pfsender.test
mydomain = sender.test
myorigin = sender.test
mydestination =
inet_interfaces = 127.0.0.4
inet_protocols = all
alias_maps =
alias_database =
smtputf8_enable = no
biff = no
smtp_connect_timeout = 5s
# The receivers are the only hosts: retry at once when a test flushes.
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
bounce_queue_lifetime = 0
notify_classes =
smtp_tls_loglevel = 1
smtp_tls_CAfile =
# --- plugin/postfix/main.cf.example, verbatim but for the adapter's port ---
""" + snippet)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF)
        os.makedirs(os.path.join(self.dir, "data"))
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), pw.pw_uid, pw.pw_gid)
        # Postfix's own address, not a receiver's (else: "loops back to myself").
        subprocess.run([*self.prefix, "ip", "addr", "add", "127.0.0.4/8", "dev", "lo"], check=True)
        check = self.postfix("check")
        assert check.returncode == 0, (check.stdout + check.stderr + (open(self.maillog).read() if os.path.exists(self.maillog) else ""))
        self.master = Daemon("postfix", [*self.prefix, *self._env_argv(),
                                         os.path.join(POSTFIX_PREFIX, "usr/sbin/postfix"),
                                         "-c", self.conf, "start-fg"],
                             os.path.join(self.dir, "postfix-master.out"))
        self.daemons.append(self.master)
        wait_for_line(self.maillog, r"daemon started")

    def _env_argv(self):
        return ["env", f"MAIL_CONFIG={self.conf}"]

    def start_adapter(self):
        """Starts danegate-agent, on the same port as the last one."""
        adapter = Agent(self.adapter_bin, os.path.join(self.dir, "danegate-agent.log"),
                          f"127.0.0.1:{self.adapter_port}", "127.0.0.1:50051",
                          os.path.join(self.queue, "danegate-ta"),
                          extra=[f"--postfix-chroot={self.queue}"], prefix=self.prefix)
        self.adapter_port = int(adapter.address.rsplit(":", 1)[1])
        self.daemons.append(adapter)
        self.adapter = adapter
        return adapter

    def stop(self):
        """Stops Postfix by its master's PID (the master detaches from
        `postfix start-fg`, so stopping that command does not end it), then
        everything else."""
        pid_file = os.path.join(getattr(self, "queue", ""), "pid", "master.pid")
        pid = None
        if os.path.exists(pid_file):
            try:
                pid = int(open(pid_file).read().split()[0])
            except (ValueError, IndexError):
                pid = None
        if pid is not None:
            stop_pid(pid)
        super().stop()

    def stop_adapter(self):
        self.adapter.stop()
        self.daemons.remove(self.adapter)

    def postfix(self, *args, stdin=None, timeout=60):
        """Runs a Postfix command (postfix, postqueue, ...) of the prefix."""
        command = args[0] if args[0].startswith("post") and args[0] != "postfix" else "postfix"
        rest = args[1:] if command != "postfix" else args
        return subprocess.run([*self.prefix, *self._env_argv(),
                               os.path.join(POSTFIX_PREFIX, "usr/sbin", command), "-c", self.conf,
                               *rest], input=stdin, capture_output=True, text=True,
                              timeout=timeout)

    # --- mail ------------------------------------------------------------
    def submit(self, *recipients):
        """Queues a message; returns (queue id, marker). Delivery starts at
        once (the queue manager picks it up)."""
        marker = self.next_marker()
        body = (f"From: {marker}@sender.test\nSubject: {marker}\n"
                f"Message-ID: <{marker}@sender.test>\nX-Marker: {marker}\n\n{marker}\n")
        out = subprocess.run([*self.prefix, *self._env_argv(),
                              os.path.join(POSTFIX_PREFIX, "usr/sbin/sendmail"), "-C", self.conf,
                              "-f", f"{marker}@sender.test", "--", *recipients],
                             input=body, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        line = wait_for_line(self.maillog, re.escape(f"message-id=<{marker}@sender.test>"))
        return re.search(r"\]: ([0-9A-F]+): message-id", line).group(1), marker

    def wait_outcome(self, queue_id, status=None):
        """Waits for the first delivery outcome of `queue_id` (with
        status=`status`, if given) and returns its log line; a sent message
        is also waited for at the receiver."""
        pattern = re.escape(f" {queue_id}: to=<") + ".*" + (f"status={status}" if status
                                                            else "status=")
        try:
            line = wait_for_line(self.maillog, pattern, timeout=30)
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- every line of {queue_id}:\n{self.log_for(queue_id)}"
                               f"--- adapter:\n{''.join(self.adapter.lines[-20:])}") from None
        self._wait_stored(line)
        return line

    def _wait_stored(self, status_line):
        """After "status=sent (250 OK id=ID)", waits until the receiving
        Exim has stored message ID."""
        m = re.search(r"status=sent \(250 OK id=(\S+?)\)", status_line)
        if m:
            for receiver in self.receivers.values():
                if m.group(1) in receiver.log():
                    wait_for_line(receiver.mainlog, re.escape(m.group(1)) + " Completed")

    def flush(self, queue_id):
        """Asks for one more delivery attempt of `queue_id` now."""
        out = self.postfix("postqueue", "-i", queue_id)
        assert out.returncode == 0, out.stderr

    def tls_line_for(self, queue_id):
        """The "... TLS connection established to ..." line the smtp process
        logged for the delivery of `queue_id` ("" if none)."""
        lines = self.maillog_text().splitlines()
        for i, line in enumerate(lines):
            m = re.search(r"(postfix/smtp\[\d+\]): " + re.escape(queue_id) + ": to=<", line)
            if not m:
                continue
            for before in reversed(lines[:i]):
                if m.group(1) in before and "status=" in before:
                    break  # an earlier delivery of the same process
                if m.group(1) in before and "TLS connection established" in before:
                    return before
        return ""

    def wait_removed(self, queue_id):
        """Waits until the queue manager has removed `queue_id`."""
        wait_for_line(self.maillog, re.escape(f" {queue_id}: removed"), timeout=30)

    def queued(self, queue_id):
        return queue_id in self.postfix("postqueue", "-p").stdout

    def maillog_text(self):
        with open(self.maillog, errors="replace") as f:
            return f.read()

    def log_for(self, queue_id):
        return "".join(l for l in self.maillog_text().splitlines(True) if queue_id in l)
