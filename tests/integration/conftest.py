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


# Programs the fixtures start. Any left running when the session ends is a
# fixture bug (they must end what they start, by PID, even when a test fails).
STARTED_PROGRAMS = {"danegated", "danegate-agent", "knotd", "unbound", "exim4", "exim",
                    "master", "qmgr", "pickup", "smtp", "tlsmgr", "postlogd", "python3"}


def running_programs():
    """{pid: name} of the processes running one of STARTED_PROGRAMS."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            state = stat[stat.rindex(")") + 2:].split()[0]
            if name in STARTED_PROGRAMS and state != "Z":
                found[int(entry)] = name
    return found


def pytest_sessionstart(session):
    session.config.programs_before = running_programs()


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down
def pytest_sessionfinish(session, exitstatus):
    """Fails the run if a process the tests started outlived them; ends it."""
    from mail_fixtures import stop_pid
    before = session.config.programs_before
    # Processes ending right now (a delivery finishing) get a moment.
    deadline = time.monotonic() + 5
    while True:
        left = {pid: name for pid, name in running_programs().items()
                if pid not in before and pid != os.getpid()}
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
