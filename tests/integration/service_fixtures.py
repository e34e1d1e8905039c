"""Helpers for tests that run the real danegated: start it on a port it
picks, learn the port from its "listening" log line, wait for SERVING, and
generate Python gRPC stubs from the proto files alone."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from dnslab import Daemon

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class Danegated:
    def __init__(self, binary, workdir, args, wait_serving=True, prefix=(),
                 listen="127.0.0.1:0"):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.audit_path = os.path.join(workdir, "audit.jsonl")
        argv = [*prefix, binary, f"--listen={listen}", "--metrics-listen=127.0.0.1:0",
                f"--audit-log={self.audit_path}", *args]
        self.daemon = Daemon("danegated", argv, os.path.join(workdir, "danegated.log"))
        self.daemon.wait_for([r'"msg":"listening"'])
        listening = json.loads(self.daemon.search(r'\{.*"msg":"listening".*\}').group(0))
        self.port = int(listening["port"])
        self.metrics_port = int(listening["metrics_port"])
        self.health_port = int(listening["health_port"] or 0)
        if wait_serving:
            self.daemon.wait_for([r'"msg":"serving"'])

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.daemon.proc.pid

    def metrics(self):
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as r:
            return r.read().decode()

    def metric(self, name_and_labels):
        """Returns the value of one sample line, e.g. 'danegate_cache_entries'."""
        for line in self.metrics().splitlines():
            if line.startswith(name_and_labels + " "):
                return float(line.split()[-1])
        return None

    def audit(self):
        with open(self.audit_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def wait_audit(self, since, predicate, timeout=10):
        """The records after the first `since`, once one of them satisfies
        `predicate`: danegated's writer thread flushes within 200 ms."""
        deadline = time.monotonic() + timeout
        while True:
            new = self.audit()[since:]
            if any(predicate(r) for r in new) or time.monotonic() > deadline:
                return new
            time.sleep(0.05)

    def terminate(self):
        """Sends SIGTERM; returns the exit status."""
        self.daemon.proc.send_signal(signal.SIGTERM)
        status = self.daemon.proc.wait(timeout=30)
        self.daemon.stop()
        return status

    def stop(self):
        self.daemon.stop()


def generate_stubs(outdir):
    """Generates Python stubs for danegate.v1 and grpc.health.v1 with
    grpc_tools from the .proto files only; returns the import path."""
    os.makedirs(outdir, exist_ok=True)
    health_src = "/usr/share/grpc-proto/grpc/health/v1/health.proto"
    # Under a top-level module name: a package named "grpc" would shadow grpcio.
    hdir = os.path.join(outdir, "healthsrc")
    os.makedirs(hdir, exist_ok=True)
    shutil.copy(health_src, os.path.join(hdir, "health.proto"))
    for include, proto in [(os.path.join(ROOT, "proto"), "danegate/v1/validator.proto"),
                           (hdir, "health.proto")]:
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{include}",
                        f"--python_out={outdir}", f"--grpc_python_out={outdir}", proto],
                       check=True)
    if outdir not in sys.path:
        sys.path.insert(0, outdir)
    return outdir
