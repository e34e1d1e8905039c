"""danegate-agent on its own: the socketmap protocol against hostile
input, its limits, mutual TLS to danegated, usage errors and SIGTERM. The
answers come from a real danegated on the DNSSEC lab."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from mail_fixtures import Agent
from service_fixtures import Danegated


@pytest.fixture
def start_adapter(adapter_bin, tmp_path):
    started = []

    def _start(server, *extra, listen=None):
        n = len(started)
        d = Agent(adapter_bin, str(tmp_path / f"adapter{n}.log"),
                    listen or f"unix:{tmp_path}/socketmap{n}.sock", server, f"{tmp_path}/ta{n}",
                    extra)
        started.append(d)
        return d
    yield _start
    for d in started:
        d.stop()


class Client:
    """One socketmap connection, as Postfix's smtp(8) keeps it."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(20)
        self.sock.connect(path)

    def send(self, raw):
        self.sock.sendall(raw)

    def ask(self, request):
        data = request.encode()
        self.send(str(len(data)).encode() + b":" + data + b",")
        return self.reply()

    def reply(self):
        buf = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None  # closed
            buf += chunk
            length, _, rest = buf.partition(b":")
            if len(rest) >= int(length) + 1:
                assert rest[int(length):int(length) + 1] == b","
                return rest[:int(length)].decode()

    def closed(self):
        """True once the server has closed the connection."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def test_answers_over_a_unix_socket_on_one_connection(service, start_adapter):
    a = start_adapter(service.address)
    c = Client(a.path)
    assert c.ask("tls_policy d-311.dane.test").startswith("OK fingerprint match=")
    assert c.ask("tls_policy insec.dane.test") == "OK may"
    assert c.ask("transport user@d-nullmx.dane.test").startswith("OK error:5.1.10 danegate:")
    assert c.ask("transport user@d-311.dane.test") == "NOTFOUND "
    assert c.ask("nospace") .startswith("PERM invalid_argument: malformed request")
    assert c.ask("tls_policy bad..name").startswith("PERM invalid_argument: key")
    # The connection is still usable after error replies.
    assert c.ask("tls_policy d-unusable.dane.test") == "OK encrypt"


@pytest.mark.parametrize("raw", [
    b"hello world\n",                # not a netstring
    b"99999999999999999999:",        # a length beyond the limit, refused as it arrives
    b"10001:",                       # one byte over Postfix's query limit
    b"5:hello!",                     # no ',' after the payload
    b":,",                           # no length
    b"\x00\xff" * 100,               # binary garbage
])
def test_malformed_input_closes_only_that_connection(service, start_adapter, raw):
    a = start_adapter(service.address)
    good = Client(a.path)
    assert good.ask("tls_policy d-311.dane.test").startswith("OK fingerprint")
    bad = Client(a.path)
    bad.send(raw)
    assert bad.closed()
    # Other connections, and new ones, are served as before.
    assert good.ask("tls_policy d-301.dane.test").startswith("OK fingerprint")
    assert Client(a.path).ask("tls_policy insec.dane.test") == "OK may"
    assert a.proc.poll() is None


def test_largest_query_is_read_and_answered(service, start_adapter):
    a = start_adapter(service.address)
    c = Client(a.path)
    reply = c.ask("tls_policy " + "a" * (10000 - len("tls_policy ")))
    assert reply.startswith("PERM invalid_argument: key")
    assert len(reply) < 1000


def metrics_text(adapter):
    port = adapter.listening["metrics_port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def wait_metric(adapter, line, timeout=20):
    """Waits until the adapter's /metrics has `line` (a whole line)."""
    deadline = time.monotonic() + timeout
    while line + "\n" not in metrics_text(adapter):
        assert time.monotonic() < deadline, metrics_text(adapter)
        time.sleep(0.05)


def test_connections_beyond_the_limit_are_refused(service, start_adapter):
    a = start_adapter(service.address, "--max-connections=2", "--metrics-listen=127.0.0.1:0")
    first, second = Client(a.path), Client(a.path)
    assert first.ask("tls_policy d-311.dane.test").startswith("OK")
    assert second.ask("tls_policy d-311.dane.test").startswith("OK")
    third = Client(a.path)
    assert third.closed()
    a.wait_for([r"connection refused, at --max-connections"])
    first.close()
    # A slot is free again once the server has closed its side of `first`.
    wait_metric(a, "danegate_agent_connections 1")
    assert Client(a.path).ask("tls_policy insec.dane.test") == "OK may"
    assert second.ask("tls_policy insec.dane.test") == "OK may"


def test_mutual_tls_to_the_validator(danegated_bin, lab, pki, start_adapter, tmp_path):
    d = Danegated(danegated_bin, str(tmp_path / "mtls"),
                  [*lab.resolver_args(), f"--tls-cert={pki['server']}",
                   f"--tls-key={pki['server_key']}", f"--client-ca={pki['ca']}",
                   "--allow-client=mta1.fleet.test"])
    try:
        server = f"localhost:{d.port}"
        allowed = start_adapter(server, f"--tls-ca={pki['ca']}", f"--tls-cert={pki['mta1']}",
                                f"--tls-key={pki['mta1_key']}")
        assert Client(allowed.path).ask("tls_policy d-311.dane.test").startswith(
            "OK fingerprint")
        other = start_adapter(server, f"--tls-ca={pki['ca']}", f"--tls-cert={pki['mta9']}",
                              f"--tls-key={pki['mta9_key']}")
        reply = Client(other.path).ask("tls_policy d-311.dane.test")
        assert reply.startswith("TEMP validator_unavailable: PERMISSION_DENIED"), reply
        plaintext = start_adapter(server, "--timeout=3s")
        assert Client(plaintext.path).ask("tls_policy d-311.dane.test").startswith(
            "TEMP validator_unavailable")
    finally:
        d.stop()


@pytest.mark.parametrize("args,message", [
    ([], "--listen is required"),
    (["--listen=unix:/tmp/x.sock"], "--server is required"),
    (["--listen=0.0.0.0:10027", "--server=127.0.0.1:1"], "only loopback"),
    (["--listen=192.0.2.1:10027", "--server=127.0.0.1:1"], "only loopback"),
    (["--listen=unix:/nonexistent/dir/s.sock", "--server=127.0.0.1:1"], "cannot bind"),
    (["--listen=127.0.0.1:0", "--server=127.0.0.1:1", "--timeout=forever"], "--timeout"),
    (["--listen=127.0.0.1:0", "--server=127.0.0.1:1", "--max-connections=0"],
     "--max-connections"),
    (["--listen=127.0.0.1:0", "--server=127.0.0.1:1", "--max-connections=-1"],
     "--max-connections"),
    (["--listen=127.0.0.1:0", "--server=127.0.0.1:1", "--socket-mode=0660x"], "--socket-mode"),
    (["--listen=127.0.0.1:0", "--server=127.0.0.1:1", "--tls-ca=/nonexistent.pem"], "--tls-ca"),
    (["--listen=127.0.0.1:0", "--server=127.0.0.1:1", "--ta-dir=/tmp/x",
      "--postfix-chroot=/var/spool/postfix"], "inside --postfix-chroot"),
    (["--bogus-flag"], "bogus-flag"),
])
def test_usage_errors_exit_64(adapter_bin, tmp_path, args, message):
    ta_dir = [] if any(a.startswith("--ta-dir") for a in args) else [f"--ta-dir={tmp_path}"]
    out = subprocess.run([adapter_bin, *args, *ta_dir], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 64, out.stderr
    assert message in out.stderr
    assert "usage: danegate-agent" in out.stderr


def test_an_address_in_use_exits_69(adapter_bin, tmp_path):
    """Another process listening on the address: the agent says so and exits
    EX_UNAVAILABLE (as danegated does), not a usage error."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        out = subprocess.run([adapter_bin, f"--listen=127.0.0.1:{port}", "--server=127.0.0.1:1",
                              f"--ta-dir={tmp_path}"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 69, out.stderr
    assert "cannot listen (another process has the address)" in out.stderr
    assert "Address already in use" in out.stderr


def test_a_unix_socket_in_use_is_not_taken_over(service, start_adapter, adapter_bin, tmp_path):
    """A second agent on a running agent's socket exits 69 and leaves it
    alone; a socket left by a dead agent is replaced."""
    first = start_adapter(service.address)
    out = subprocess.run([adapter_bin, f"--listen=unix:{first.path}",
                          f"--server={service.address}", f"--ta-dir={tmp_path}/second"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 69, out.stderr
    assert "another process accepts connections on it" in out.stderr
    assert Client(first.path).ask("tls_policy d-311.dane.test").startswith("OK")
    # A stale socket file (nobody listening) is replaced by a new agent.
    stale = str(tmp_path / "stale.sock")
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(stale)
    second = start_adapter(service.address, listen=f"unix:{stale}")
    assert Client(second.path).ask("tls_policy d-311.dane.test").startswith("OK")


def test_sigterm_exits_0_and_removes_the_socket(service, start_adapter):
    a = start_adapter(service.address)
    c = Client(a.path)
    assert c.ask("tls_policy d-311.dane.test").startswith("OK")
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(timeout=20) == 0
    assert not os.path.exists(a.path)
    assert c.closed()


def test_trust_anchor_files_are_named_by_content(service, start_adapter, tmp_path):
    a = start_adapter(service.address)
    c = Client(a.path)
    first = c.ask("tls_policy d-ta-key.dane.test")
    assert first.startswith("OK secure tafile=") and "match=mx-ta-key.dane.test" in first
    path = first.split("tafile=")[1].split()[0]
    assert path.startswith(str(tmp_path / "ta0") + "/ta-") and path.endswith(".pem")
    assert open(path).read().startswith("-----BEGIN PUBLIC KEY-----\n")
    assert os.stat(path).st_mode & 0o777 == 0o644
    # The same answer names the same file; a removed file is written again.
    assert c.ask("tls_policy d-ta-key.dane.test") == first
    os.unlink(path)
    assert c.ask("tls_policy d-ta-key.dane.test") == first
    assert os.path.exists(path)


def test_metrics_count_lookups_by_table_status_and_reason(service, start_adapter):
    a = start_adapter(service.address, "--metrics-listen=127.0.0.1:0")
    c = Client(a.path)
    for _ in range(2):
        assert c.ask("tls_policy d-311.dane.test").startswith("OK fingerprint")
    assert c.ask("tls_policy expired.dane.test").startswith("TEMP dnssec_bogus")
    assert c.ask("transport user@d-nullmx.dane.test").startswith("OK error:5.1.10")
    assert c.ask("nonsense").startswith("PERM")
    text = metrics_text(a)
    for line in [
        'danegate_agent_lookups_total{map="tls_policy",status="ok",reason="dane_required"} 2',
        'danegate_agent_lookups_total{map="tls_policy",status="temp",reason="dnssec_bogus"} 1',
        'danegate_agent_lookups_total{map="transport",status="ok",reason="null_mx"} 1',
        'danegate_agent_lookups_total{map="invalid",status="perm",reason="invalid_argument"} 1',
        'danegate_agent_lookup_duration_seconds_count{map="tls_policy"} 3',
        "danegate_agent_connections 1",
        'danegate_agent_chain_fetches_total{result="ok"} 0',  # no digest DANE-TA asked
    ]:
        assert line in text, text


def test_a_restarted_validator_is_used_again(danegated_bin, lab, start_adapter, tmp_path):
    d = Danegated(danegated_bin, str(tmp_path / "before"), lab.resolver_args())
    port = d.port
    a = start_adapter(d.address, "--metrics-listen=127.0.0.1:0")
    c = Client(a.path)
    wait_metric(a, "danegate_agent_validator_up 1")  # connected before the first lookup
    assert c.ask("tls_policy d-311.dane.test").startswith("OK fingerprint")
    d.stop()
    wait_metric(a, "danegate_agent_validator_up 0")
    assert c.ask("tls_policy d-311.dane.test").startswith("TEMP validator_unavailable")
    a.wait_for([r'"msg":"validator connection".*"state":"transient_failure"'])
    d = Danegated(danegated_bin, str(tmp_path / "after"), lab.resolver_args(),
                  listen=f"127.0.0.1:{port}")
    try:
        started = time.monotonic()
        wait_metric(a, "danegate_agent_validator_up 1")
        print(f"adapter reconnected {time.monotonic() - started:.2f} s after danegated served")
        # Connected again before any lookup asked for it: the next one is answered.
        assert c.ask("tls_policy d-311.dane.test").startswith("OK fingerprint")
    finally:
        d.stop()


def test_alerts_and_dashboard_name_only_metrics_that_exist(service, start_adapter):
    """Every metric an alert (deploy/k8s/components/monitoring) or the
    Grafana dashboard (deploy/grafana) asks for is one danegated or the
    agent really exports: a renamed metric must not silence an alert."""
    import glob
    import re
    a = start_adapter(service.address, "--metrics-listen=127.0.0.1:0")
    exported = set()
    for text in (service.metrics(), metrics_text(a)):
        exported |= set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    files = [os.path.join(root, "deploy/k8s/components/monitoring/prometheusrule.yaml"),
             *glob.glob(os.path.join(root, "deploy/grafana/*.json"))]
    assert len(files) == 2, files
    for path in files:
        with open(path) as f:
            text = f.read()
        if path.endswith(".json"):
            json.loads(text)  # Grafana imports it
        names = set(re.findall(r"\b(danegate_[a-z_]+)", text))
        assert names, path
        base = {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}
        assert base - exported == set(), path
