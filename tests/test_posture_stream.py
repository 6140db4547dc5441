"""Portfolio-scale posture: the streamed assessment equals the all-at-once one; badges are cached per chain head."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from msptui import posture_stream as portfolio
from msptui.models import Client, InsurancePolicy
from msptui.posture import assess, badges as to_badges


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MSPTUI_CACHE_DIR", str(tmp_path / "cache"))
    portfolio._memory.clear()


@pytest.fixture
def demo(store):
    from msptui.demo import load_demo

    load_demo(store, today=date(2026, 11, 27))
    return store


NOW = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)


def test_streamed_assessment_equals_the_whole_portfolio_at_once(demo, monkeypatch):
    monkeypatch.setattr(portfolio, "CHUNK", 3)  # several chunks even for the demo portfolio
    whole = [f.as_dict() for f in assess(demo, now=NOW)]
    streamed = [f.as_dict() for f in portfolio.assess_streamed(demo, now=NOW)]
    assert streamed == whole and len(whole) > 10


def test_badges_come_from_the_cache_until_the_chain_moves_then_only_the_touched_client_is_redone(demo, monkeypatch):
    expected = {k: list(v) for k, v in to_badges(assess(demo, now=NOW)).items()}
    first = portfolio.badges(demo, now=NOW)
    assert first.source == "full" and first.by_client == expected
    assert portfolio.badges(demo, now=NOW).source == "cache"
    portfolio._memory.clear()  # a new process: the cache file on disk serves it
    again = portfolio.badges(demo, now=NOW)
    assert again.source == "cache" and again.by_client == expected
    # one client's cover expires: only that client is re-assessed
    calls = []
    real = portfolio.assess_streamed
    monkeypatch.setattr(portfolio, "assess_streamed", lambda store, **kw: calls.append(kw) or real(store, **kw))
    lapsed = demo.all(InsurancePolicy, client_id="tallgrass-vet")[0]
    demo.put(lapsed.model_copy(update={"period_end": date(2026, 1, 31), "period_start": date(2025, 2, 1)}))
    changed = portfolio.badges(demo, now=NOW)
    assert changed.source == "incremental" and calls[-1]["clients"] == ["tallgrass-vet"]
    assert changed.by_client == {k: list(v) for k, v in to_badges(assess(demo, now=NOW)).items()}
    assert "INS-EXPIRED" in changed.by_client["tallgrass-vet"]
    # a new day somewhere: everything is judged again
    assert portfolio.badges(demo, now=NOW + timedelta(days=1)).source == "full"


def test_a_new_client_and_a_foreign_cache_file(demo):
    portfolio.badges(demo, now=NOW)
    demo.put(Client(id="newco", name="NewCo", engagement="managed", home_tz="America/New_York"))
    result = portfolio.badges(demo, now=NOW)
    assert result.source == "incremental" and "NO-MSA" in result.by_client["newco"]
    portfolio._memory.clear()
    portfolio._cache_file(demo).write_text("not json")
    assert portfolio.badges(demo, now=NOW).source == "full"


def test_posture_cli_output_is_unchanged_by_streaming(cli, demo):
    import json

    out = cli("posture", "--json")
    assert out.exit_code == 0
    assert json.loads(out.stdout) == json.loads(json.dumps([f.as_dict() for f in assess(demo, now=datetime.now(timezone.utc))], default=str))


def test_home_badges_add_the_open_incident_to_the_cached_posture(demo):
    """The home screen's column: cached posture labels plus INCIDENT, which is a fact of now and never cached."""
    from msptui.incidents import open_incident
    from msptui.views.portfolio import badges as home_badges

    before = home_badges(demo, now=NOW)
    assert not any(label.startswith("INCIDENT") for labels in before.values() for label in labels)
    open_incident(demo, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                  tz="America/Chicago", category="ransomware", summary="files encrypted")
    after = home_badges(demo, now=NOW)
    assert after["tallgrass-vet"][-1] == "INCIDENT"
    assert after["tallgrass-vet"][:-1] == portfolio.badges(demo, now=NOW).by_client.get("tallgrass-vet", [])
    assert portfolio.badges(demo, now=NOW).source == "cache"  # the incident was folded in incrementally, then cached
