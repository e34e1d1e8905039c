"""Fixtures shared by the integration tests: the DNSSEC lab (real Knot DNS
and Unbound on loopback) and the danegate binary under test."""
import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lab"))
import dnslab  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))


# Any process still running when the session ends whose command line or
# working directory is inside a directory this session created (pytest's
# temporary tree, the mail namespaces' directories) was started by a test
# and not stopped: a fixture bug (they must end what they start, by PID,
# even when a test fails). Processes of other sessions are not touched.
def session_processes(dirs):
    """{pid: command} of the processes inside `dirs`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(d in cmdline or cwd.startswith(d) for d in dirs):
            found[int(entry)] = cmdline[:120]
    return found


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down
def pytest_sessionfinish(session, exitstatus):
    """Fails the run if a process the tests started outlived them; ends it."""
    from mail_fixtures import SESSION_DIRS, stop_pid
    dirs = list(SESSION_DIRS)
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and factory._basetemp is not None:
        dirs.append(str(factory._basetemp))
    if not dirs:
        return
    # Processes ending right now (a delivery finishing) get a moment.
    deadline = time.monotonic() + 5
    while True:
        left = session_processes(dirs)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if left:
        print(f"\nprocesses started by the tests are still running: {left}", file=sys.stderr)
        for pid in left:
            stop_pid(pid)
        session.exitstatus = 1


def binary(name, env_var):
    path = os.environ.get(env_var) or os.path.join(ROOT, "build", "service", name)
    if not os.access(path, os.X_OK):
        pytest.exit(f"{path} not built (set {env_var})", returncode=2)
    return path


@pytest.fixture(scope="session")
def danegate():
    return binary("danegate", "DANEGATE_BIN")


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    lab = dnslab.DnsLab(str(tmp_path_factory.mktemp("lab"))).start()
    yield lab
    lab.stop()


@pytest.fixture
def private_lab(tmp_path):
    """A lab of the test's own, for tests that stop its resolver: the session
    lab (and the session danegated's health) must never be disturbed."""
    lab = dnslab.DnsLab(str(tmp_path / "private-lab")).start()
    yield lab
    lab.stop()


class Cli:
    """Runs danegate and parses its JSON."""

    def __init__(self, path):
        self.path = path

    def run(self, *args, timeout=60):
        return subprocess.run([self.path, *args], capture_output=True, text=True, timeout=timeout)

    def json(self, *args, timeout=60):
        out = self.run(*args, "--json", timeout=timeout)
        assert out.stdout, f"no output; exit {out.returncode}; stderr: {out.stderr}"
        return out.returncode, json.loads(out.stdout)


@pytest.fixture(scope="session")
def cli(danegate):
    return Cli(danegate)


@pytest.fixture(scope="session")
def danegated_bin():
    return binary("danegated", "DANEGATED_BIN")


@pytest.fixture(scope="session")
def adapter_bin(danegated_bin):
    """danegate-agent, from the same build tree as danegated."""
    path = os.environ.get("DANEGATE_AGENT_BIN") or os.path.join(
        os.path.dirname(os.path.dirname(danegated_bin)), "plugin", "danegate-agent")
    assert os.access(path, os.X_OK), path
    return path


@pytest.fixture(scope="session")
def stubs(tmp_path_factory):
    """Python gRPC stubs generated from the .proto files alone."""
    from service_fixtures import generate_stubs
    generate_stubs(str(tmp_path_factory.mktemp("stubs")))
    from danegate.v1 import validator_pb2, validator_pb2_grpc
    import health_pb2
    import health_pb2_grpc

    class Stubs:
        pb, rpc, health_pb, health_rpc = (validator_pb2, validator_pb2_grpc, health_pb2,
                                          health_pb2_grpc)
    return Stubs


@pytest.fixture(scope="session")
def service(danegated_bin, lab, tmp_path_factory):
    """One danegated for the session, resolving through the lab."""
    from service_fixtures import Danegated
    d = Danegated(danegated_bin, str(tmp_path_factory.mktemp("danegated")),
                  lab.resolver_args())
    yield d
    d.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A CA for the service, server and client certificates, and a rogue CA."""
    from certs import issue
    d = tmp_path_factory.mktemp("pki")
    ca = issue("danegate test CA", ca=True, days=30)
    rogue = issue("rogue CA", ca=True, days=30)
    certs = {
        "ca": ca,
        "server": issue("localhost", sans=["localhost"], issuer=ca),
        "mta1": issue("mta1.fleet.test", sans=["mta1.fleet.test"], issuer=ca),
        "mta9": issue("mta9.fleet.test", sans=["mta9.fleet.test"], issuer=ca),
        # The allowed name only as CN, beside a SAN: not that name (RFC 6125).
        "cn_only_allowed": issue("mta1.fleet.test", sans=["mta7.fleet.test"], issuer=ca),
        "rogue_client": issue("mta1.fleet.test", sans=["mta1.fleet.test"], issuer=rogue),
    }
    paths = {}
    for name, c in certs.items():
        paths[name] = str(d / f"{name}.pem")
        paths[name + "_key"] = str(d / f"{name}.key")
        with open(paths[name], "w") as f:
            f.write(c.pem())
        with open(paths[name + "_key"], "w") as f:
            f.write(c.key_pem())
    return paths
