"""The C client library (libdanegate_client.so) through its C ABI, as an MTA
plugin uses it: answers, fail-closed defaults, and fork safety (a cached
channel must work on both sides of fork())."""
import ctypes
import os

import pytest

REASON, DETAIL, TLSA, HOSTS = 64, 512, 300, 4200


class Answer(ctypes.Structure):
    _fields_ = [("action", ctypes.c_int), ("authenticated", ctypes.c_int),
                ("from_service", ctypes.c_int), ("reason", ctypes.c_char * REASON),
                ("detail", ctypes.c_char * DETAIL), ("matched_tlsa", ctypes.c_char * TLSA),
                ("require_tls_hosts", ctypes.c_char * HOSTS)]


DELIVER, DEFER, REJECT = 0, 1, 2


@pytest.fixture(scope="module")
def lib(danegated_bin):
    if os.environ.get("DANEGATE_SANITIZED") == "1":
        pytest.skip("sanitizer build: the library needs the ASan runtime preloaded")
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(danegated_bin))),
                        "plugin", "libdanegate_client.so")
    lib = ctypes.CDLL(path)
    lib.danegate_resolve_policy.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint,
                                            ctypes.POINTER(Answer)]
    lib.danegate_verify_peer.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint,
        ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t,
        ctypes.POINTER(Answer)]
    return lib


def conf(tmp_path, server, timeout_ms=3000, name="client.conf"):
    path = tmp_path / name
    path.write_text(f"# test\nserver = {server}\ntimeout_ms = {timeout_ms}\n")
    return str(path).encode()


def policy(lib, config, domain):
    a = Answer()
    rc = lib.danegate_resolve_policy(config, domain.encode(), 25, ctypes.byref(a))
    return rc, a


def test_policy_and_verify_through_the_c_abi(lib, lab, service, tmp_path):
    config = conf(tmp_path, service.address)
    rc, a = policy(lib, config, "d-bogus-second.dane.test")
    assert (rc, a.action, a.from_service, a.reason) == (0, DELIVER, 1, b"dane_required")
    # TLS may be skipped only for hosts the policy allows; unknown ones need it.
    assert a.require_tls_hosts == b"*"
    rc, a = policy(lib, config, "d-notlsa.dane.test")
    assert a.require_tls_hosts == b"! mx-notlsa.dane.test : *"
    rc, a = policy(lib, config, "d-nullmx.dane.test")
    assert (a.action, a.reason, a.require_tls_hosts) == (REJECT, b"null_mx", b"*")

    ders = [c.der() for c in lab.certs.chains["ta"]]
    arr = (ctypes.c_char_p * len(ders))(*ders)
    lens = (ctypes.c_size_t * len(ders))(*[len(d) for d in ders])
    v = Answer()
    rc = lib.danegate_verify_peer(config, b"d-ta.dane.test", b"mx-ta.dane.test", 25, arr, lens,
                                  len(ders), ctypes.byref(v))
    assert (rc, v.action, v.authenticated, v.reason) == (0, DELIVER, 1, b"dane_authenticated"), \
        v.detail
    assert v.matched_tlsa == lab.certs.root.tlsa(2, 1, 1).encode()


def test_oversized_chains_are_refused_before_any_call(lib, service, tmp_path):
    config = conf(tmp_path, service.address)
    for ders in ([b"x"] * 17, [b"x" * (64 * 1024 + 1)], []):
        arr = (ctypes.c_char_p * max(1, len(ders)))(*ders)
        lens = (ctypes.c_size_t * max(1, len(ders)))(*[len(d) for d in ders])
        v = Answer()
        rc = lib.danegate_verify_peer(config, b"d-311.dane.test", b"mx-311.dane.test", 25, arr,
                                      lens, len(ders), ctypes.byref(v))
        assert (rc, v.action, v.reason) == (-1, DEFER, b"plugin_error")


@pytest.mark.parametrize("case", ["unreachable", "missing config", "bad config", "bad domain"])
def test_every_failure_is_a_defer(lib, tmp_path, service, case):
    if case == "unreachable":
        config = conf(tmp_path, "127.0.0.1:1", 1000)
    elif case == "missing config":
        config = str(tmp_path / "absent.conf").encode()
    elif case == "bad config":
        config = conf(tmp_path, "")
    else:
        config = conf(tmp_path, service.address)
    rc, a = policy(lib, config, "bad domain" if case == "bad domain" else "d-311.dane.test")
    assert rc == -1
    assert (a.action, a.from_service, a.require_tls_hosts) == (DEFER, 0, b"*")
    assert a.reason in (b"validator_unavailable", b"plugin_error", b"invalid_argument")
    assert a.detail


FORK_HOST = r"""
import ctypes, os, sys
sys.path.insert(0, sys.argv[3])
from test_client_library import Answer
lib = ctypes.CDLL(sys.argv[1])
lib.danegate_resolve_policy.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint,
                                        ctypes.POINTER(Answer)]
def ask(domain):
    a = Answer()
    rc = lib.danegate_resolve_policy(sys.argv[2].encode(), domain, 25, ctypes.byref(a))
    return rc == 0 and a.action == 0
threads = lambda: len(os.listdir("/proc/self/task"))
assert ask(b"d-311.dane.test")
# The call left no gRPC threads behind: a fork now copies no gRPC state.
print("threads after call", threads())
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, b"child-ok" if ask(b"d-301.dane.test") else b"child-failed")
    os._exit(0)
ok = ask(b"d-312.dane.test")
os.waitpid(pid, 0)
print("parent-ok" if ok else "parent-failed", os.read(r, 100).decode())
"""


def test_calls_leave_no_grpc_threads_so_forking_hosts_are_safe(lib, service, tmp_path):
    # A host process of its own (like Exim), without grpcio loaded: pytest's
    # process shares libgrpc with grpcio, so gRPC never shuts down there.
    import subprocess
    import sys
    config = conf(tmp_path, service.address).decode()
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
        os.environ.get("DANEGATED_BIN", "build/service/danegated")))), "plugin",
        "libdanegate_client.so")
    out = subprocess.run([sys.executable, "-c", FORK_HOST, path, config,
                          os.path.dirname(os.path.abspath(__file__))],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "threads after call 1\n" in out.stdout
    assert "parent-ok child-ok" in out.stdout
