"""danegated as a real process against the DNSSEC lab: the same answers as
--local through both RPCs, from the CLI and from a Python client whose stubs
come from the proto alone; health, metrics, the audit log, and bad input."""
import ssl

import grpc
import pytest

from certs import oversized_certificate
from scenarios import SCENARIOS

LAB_SCENARIOS = [s for s in SCENARIOS if s.resolver == "lab"]


def der(lab, chain):
    return [c.der() for c in lab.certs.chains[chain]]


@pytest.mark.parametrize("scenario", LAB_SCENARIOS, ids=[s.name for s in LAB_SCENARIOS])
def test_server_answers_like_local(cli, lab, service, scenario):
    local = cli.json("policy", "--local", *lab.resolver_args(), scenario.domain)
    remote = cli.json("policy", f"--server={service.address}", scenario.domain)
    assert remote == local
    for case in scenario.verify:
        args = [scenario.domain, "--mx", case.mx, "--chain", lab.certs.chain_file(case.chain)]
        local = cli.json("verify", "--local", *lab.resolver_args(), *args)
        remote = cli.json("verify", f"--server={service.address}", *args)
        assert remote == local
        assert remote[1]["reason"] == case.reason


@pytest.fixture(scope="module")
def channel(service):
    with grpc.insecure_channel(service.address) as ch:
        yield ch


def test_python_client_calls_both_rpcs_and_health(stubs, lab, channel):
    pb = stubs.pb
    validator = stubs.rpc.ValidatorStub(channel)
    policy = validator.ResolvePolicy(pb.ResolvePolicyRequest(domain="d-ta.dane.test"), timeout=10)
    assert policy.action == pb.ACTION_DELIVER
    assert policy.reason == pb.REASON_DANE_REQUIRED
    assert [(m.host, m.tls) for m in policy.mx] == [("mx-ta.dane.test", pb.TLS_MODE_DANE)]
    assert policy.mx[0].dnssec == pb.DNSSEC_STATUS_SECURE

    verdict = validator.VerifyPeer(pb.VerifyPeerRequest(
        domain="d-ta.dane.test", mx_host="mx-ta.dane.test", port=25, chain=der(lab, "ta")),
        timeout=10)
    assert (verdict.action, verdict.authenticated, verdict.reason) == (
        pb.ACTION_DELIVER, True, pb.REASON_DANE_AUTHENTICATED)
    assert verdict.matched_tlsa.usage == 2

    health = stubs.health_rpc.HealthStub(channel)
    got = health.Check(stubs.health_pb.HealthCheckRequest(service=""), timeout=5)
    assert got.status == stubs.health_pb.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(channel):
    # The reflection service answers with the file descriptors; ask for the
    # service list over the raw v1alpha method.
    method = channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=lambda b: b, response_deserializer=lambda b: b)
    # ServerReflectionRequest{list_services: "*"}: field 7, string "*".
    responses = list(method(iter([b"\x3a\x01*"]), timeout=5))
    assert responses and b"danegate.v1.Validator" in responses[0]
    assert b"grpc.health.v1.Health" in responses[0]



@pytest.mark.parametrize("case,message", [
    ("bad domain", "domain: label 1 contains ' '"),
    ("empty domain", "domain: empty name"),
    ("long label", "label 1 is 64 octets"),
    ("port", "port: 70000 is outside 1..65535"),
    ("bad mx", "mx_host: label 2 is empty"),
    ("empty chain", "chain: empty"),
    ("17 certificates", "17 certificates; the limit is 16"),
    ("certificate over 64 KiB", "chain[0]: "),
    ("not DER", "chain[1]: not one well-formed DER"),
    ("over the size limit", "request: "),
])
def test_bad_input_is_invalid_argument(stubs, lab, channel, case, message):
    pb = stubs.pb
    validator = stubs.rpc.ValidatorStub(channel)
    ee = lab.certs.ee.der()
    verify = dict(domain="d-311.dane.test", mx_host="mx-311.dane.test", chain=[ee])
    requests = {
        "bad domain": ("policy", dict(domain="exa mple.com")),
        "empty domain": ("policy", dict(domain="")),
        "long label": ("policy", dict(domain="a" * 64 + ".example")),
        "port": ("policy", dict(domain="d-311.dane.test", port=70000)),
        "bad mx": ("verify", {**verify, "mx_host": "mx..dane.test"}),
        "empty chain": ("verify", {**verify, "chain": []}),
        "17 certificates": ("verify", {**verify, "chain": [ee] * 17}),
        "certificate over 64 KiB": ("verify", {**verify, "chain": [oversized_certificate().der()]}),
        "not DER": ("verify", {**verify, "chain": [ee, b"\x30\x03abc"]}),
        "over the size limit": ("verify", {**verify, "chain": [b"\x00" * 70000] * 17}),
    }
    kind, fields = requests[case]
    with pytest.raises(grpc.RpcError) as err:
        if kind == "policy":
            validator.ResolvePolicy(pb.ResolvePolicyRequest(**fields), timeout=10)
        else:
            validator.VerifyPeer(pb.VerifyPeerRequest(**fields), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in err.value.details()
    # The service keeps serving everyone else.
    ok = validator.ResolvePolicy(pb.ResolvePolicyRequest(domain="d-311.dane.test"), timeout=10)
    assert ok.action == pb.ACTION_DELIVER


def test_cli_reports_invalid_argument_from_the_server(cli, service):
    out = cli.run("policy", f"--server={service.address}", "exa mple.com")
    assert out.returncode == 65
    assert "domain: label 1 contains ' '" in out.stderr


def test_cli_defers_when_the_server_is_unreachable(cli, lab):
    # Nothing listens on port 1 of loopback.
    out = cli.run("policy", "--server=127.0.0.1:1", "--timeout=2s", "d-311.dane.test")
    assert out.returncode == 75
    assert "validator did not answer" in out.stderr
    assert out.stdout == ""


def test_audit_log_explains_each_decision(cli, lab, service):
    since = len(service.audit())
    cli.json("verify", f"--server={service.address}", "d-mismatch.dane.test",
             "--mx", "mx-mismatch.dane.test", "--chain", lab.certs.chain_file("ee"))

    def mismatch(r):
        return r["domain"] == "d-mismatch.dane.test" and r["rpc"] == "VerifyPeer"
    lines = [r for r in service.wait_audit(since, mismatch) if mismatch(r)]
    assert lines, service.audit()
    last = lines[-1]
    assert (last["action"], last["reason"], last["mx_host"]) == (
        "defer", "dane_mismatch", "mx-mismatch.dane.test")
    assert last["client"].startswith("ipv4:127.0.0.1:")
    assert last["latency_ms"] >= 0 and last["time"].endswith("Z")
    assert last["matched_tlsa"] is None

    since = len(service.audit())
    cli.json("verify", f"--server={service.address}", "d-311.dane.test",
             "--mx", "mx-311.dane.test", "--chain", lab.certs.chain_file("ee"))

    def delivered(r):
        return (r["domain"] == "d-311.dane.test" and r["rpc"] == "VerifyPeer"
                and r["action"] == "deliver")
    ok = [r for r in service.wait_audit(since, delivered) if delivered(r)][-1]
    assert ok["matched_tlsa"] == lab.certs.ee.tlsa(3, 1, 1)


def test_metrics_count_decisions_and_cache(cli, service):
    before = service.metric(
        'danegate_decisions_total{rpc="ResolvePolicy",action="reject",reason="null_mx"}') or 0
    cli.json("policy", f"--server={service.address}", "d-nullmx.dane.test")
    cli.json("policy", f"--server={service.address}", "d-nullmx.dane.test")
    text = service.metrics()
    after = service.metric(
        'danegate_decisions_total{rpc="ResolvePolicy",action="reject",reason="null_mx"}')
    assert after == before + 2
    assert service.metric("danegate_cache_hits_total") >= 1
    assert service.metric("danegate_serving") == 1
    assert 'danegate_rpc_duration_seconds_bucket{rpc="ResolvePolicy",le="+Inf"}' in text
    assert 'danegate_dns_query_duration_seconds_count{type="MX",outcome="ok"}' in text
    assert 'danegate_dnssec_answers_total{status="secure"}' in text
    assert "danegate_rpcs_in_flight 0" in text


@pytest.mark.parametrize("method", ["ResolvePolicy", "VerifyPeer"])
def test_malformed_protobuf_is_invalid_argument_counted_and_audited(service, method):
    # Bytes that are no protobuf message (a truncated length-delimited field).
    with grpc.insecure_channel(service.address) as channel:
        call = channel.unary_unary(f"/danegate.v1.Validator/{method}",
                                   request_serializer=None, response_deserializer=None)
        before = service.metric(f'danegate_invalid_requests_total{{rpc="{method}"}}') or 0
        since = len(service.audit())
        with pytest.raises(grpc.RpcError) as err:
            call(b"\x0a\xff\xff\xff\x0f", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"not a valid danegate.v1.{method}Request message" in err.value.details()
    assert service.metric(f'danegate_invalid_requests_total{{rpc="{method}"}}') == before + 1
    def refused(r):
        return (r["rpc"] == method and r["reason"] == "invalid_argument"
                and "not a valid" in r["detail"])
    assert any(refused(r) for r in service.wait_audit(since, refused))
