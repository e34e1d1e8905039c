"""Real Exim 4.96 with danegate_exim.so delivers, defers or bounces on
danegated's verdict: DNS from the DNSSEC lab, real TLS to a real receiving
Exim, all inside a network namespace of this test's own."""
import os
import shutil

import pytest

from exim_fixtures import EximEnv

pytestmark = pytest.mark.skipif(shutil.which("exim4") is None, reason="exim4 not installed")


@pytest.fixture(scope="module")
def env(danegated_bin, tmp_path_factory):
    so = os.environ.get("DANEGATE_EXIM_SO") or os.path.join(
        os.path.dirname(os.path.dirname(danegated_bin)), "plugin", "danegate_exim.so")
    e = EximEnv(os.path.abspath(danegated_bin), os.path.abspath(so)).start()
    yield e
    e.stop()


def test_matching_tlsa_is_received_authenticated(env):
    mid, marker = env.submit("user@d-311.dane.test")
    env.deliver(mid)
    assert env.received("d-311.dane.test", marker), env.log_for(mid)
    assert not env.queued(mid)
    log = env.log_for(mid)
    assert "danegate: d-311.dane.test via mx-311.dane.test: dane_authenticated TLSA 3 1 1" in log
