"""The sending Exim for the Exim plugin tests, in the mail namespace of
mail_fixtures, with its danegate-agent; its configuration includes the
shipped snippets from plugin/exim verbatim. The sender is Debian's exim4
(GnuTLS) or the OpenSSL-linked Exim that scripts/install-test-exim-openssl.sh
builds: the two obey a denied certificate differently."""
import os
import re

from mail_fixtures import EXIM_USER, ROOT, Agent, Exim, MailNamespace, wait_for_line

OPENSSL_EXIM = os.environ.get("DANEGATE_EXIM_OPENSSL",
                              "/opt/danegate-test/exim-openssl/bin/exim4")
# The sending Exim builds every Exim test runs against.
EXIM_BUILDS = {"gnutls": "exim4", "openssl": OPENSSL_EXIM}


class EximEnv(MailNamespace):
    def __init__(self, danegated_bin, so_path, agent_bin, exim_bin):
        super().__init__(danegated_bin, "exim")
        self.so_path = so_path
        self.agent_bin = agent_bin
        self.exim_bin = exim_bin

    def _start_sender(self):
        self.agent = self.start_agent("agent", "127.0.0.1:50051")
        self.sender = self.make_sender(self.agent.path)

    def start_agent(self, name, server, extra=()):
        """Starts a danegate-agent on a unix socket in the test's directory."""
        agent = Agent(self.agent_bin, os.path.join(self.dir, f"{name}.log"),
                      f"unix:{os.path.join(self.dir, name + '.sock')}", server,
                      os.path.join(self.dir, f"{name}-ta"), extra=extra, prefix=self.prefix)
        self.daemons.append(agent)
        return agent

    def make_sender(self, agent_path, name="sender"):
        plugin = os.path.join(ROOT, "plugin", "exim")
        return Exim(self, name, f"""DANEGATE_SO = {self.so_path}
DANEGATE_AGENT = {agent_path}
primary_hostname = sender.test
qualify_domain = sender.test
domainlist local_domains = sender.test
local_interfaces = 127.0.0.3
remote_max_parallel = 4
begin routers
.include {plugin}/danegate_routers.conf
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = danegate_smtp
  self = send
  no_more
local:
  driver = accept
  domains = +local_domains
  transport = local_mailbox
begin transports
.include {plugin}/danegate_transports.conf
local_mailbox:
  driver = appendfile
  file = {os.path.join(self.dir, name, "mail")}/mbox
  envelope_to_add
  user = {EXIM_USER}
begin retry
* * F,1d,1m
""", binary=self.exim_bin)

    def submit(self, *recipients, sender=None):
        """Queues a message (no delivery yet); returns (message id, marker)."""
        sender = sender or self.sender
        marker = self.next_marker()
        body = f"From: {marker}@sender.test\nSubject: {marker}\nX-Marker: {marker}\n\n{marker}\n"
        out = sender.run("-odq", "-f", f"{marker}@sender.test", "--", *recipients, stdin=body)
        assert out.returncode == 0, out.stderr
        line = wait_for_line(sender.mainlog, re.escape(f"<= {marker}@sender.test"))
        return line.split()[2], marker

    def deliver(self, message_id, sender=None):
        """Runs one delivery attempt of `message_id`, in the foreground, and
        waits until the receivers have stored what they accepted."""
        sender = sender or self.sender
        out = sender.run("-M", message_id, timeout=120)
        self.wait_stored(message_id, sender)
        return out

    def wait_stored(self, message_id, sender=None):
        log = (sender or self.sender).log()
        for rid in re.findall(re.escape(message_id) + r" [=-]> .* id=(\S+?)\"", log):
            for receiver in self.receivers.values():
                if rid in receiver.log():
                    wait_for_line(receiver.mainlog, re.escape(rid) + " Completed")

    def queued(self, message_id, sender=None):
        out = (sender or self.sender).run("-bp")
        return message_id in out.stdout

    def bounce_for(self, message_id, marker):
        """Waits for the DSN that `message_id` caused to be stored locally and
        returns it ("" if there is none)."""
        line = re.search(r"(\S+) <= <> R=" + re.escape(message_id), self.sender.log())
        if line is None:
            return ""
        wait_for_line(self.sender.mainlog, re.escape(line.group(1)) + " Completed")
        path = os.path.join(self.dir, "sender", "mail", "mbox")
        for message in re.split(r"\n(?=From )", open(path, errors="replace").read()):
            if f"Envelope-to: {marker}@sender.test" in message:
                return message
        return ""

    def log_for(self, message_id, sender=None):
        return "\n".join(l for l in (sender or self.sender).log().splitlines()
                         if message_id in l)
