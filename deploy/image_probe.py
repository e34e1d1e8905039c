#!/usr/bin/python3
"""Asks a danegated started from the image what Kubernetes and an MTA
would: grpc.health.v1 Check ("" and "liveness") on the plaintext health
port until SERVING (at most 60 s), then ResolvePolicy on the gRPC port.
  image_probe.py HEALTH_ADDR GRPC_ADDR"""
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"),
                os.path.join(ROOT, "tests", "integration", "lab")]
import grpc  # noqa: E402
from service_fixtures import generate_stubs  # noqa: E402

generate_stubs(tempfile.mkdtemp(prefix="danegate-stubs-"))
import health_pb2, health_pb2_grpc  # noqa: E402,E401
from danegate.v1 import validator_pb2, validator_pb2_grpc  # noqa: E402

health_addr, grpc_addr = sys.argv[1], sys.argv[2]
with grpc.insecure_channel(health_addr) as channel:
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + 60
    while True:
        try:
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
        except grpc.RpcError as e:
            status = e.code()
        if status == health_pb2.HealthCheckResponse.SERVING:
            break
        if time.monotonic() > deadline:
            sys.exit(f"image_probe: health is {status}, not SERVING, after 60 s")
        time.sleep(0.2)
    live = health.Check(health_pb2.HealthCheckRequest(service="liveness"), timeout=2).status
    assert live == health_pb2.HealthCheckResponse.SERVING, live
    print(f"image_probe: {health_addr} health SERVING, liveness SERVING")
with grpc.insecure_channel(grpc_addr) as channel:
    answer = validator_pb2_grpc.ValidatorStub(channel).ResolvePolicy(
        validator_pb2.ResolvePolicyRequest(domain="d-311.dane.test"), timeout=10)
    assert answer.action == validator_pb2.ACTION_DELIVER and answer.mx[0].tls == \
        validator_pb2.TLS_MODE_DANE, answer
    print(f"image_probe: {grpc_addr} ResolvePolicy d-311.dane.test -> deliver, dane")
