"""Benchmark: posture over a 10,000-client portfolio, beside a yardstick.

Run: ``.venv/bin/python benchmarks/posture_bench.py [--clients N] [--reviews N]``

Absolute seconds depend on the machine, so the script also times, in the
same run, a yardstick anyone can reason about: merely grouping the same
records by client and reading one field of each (the least any per-client
check must do). The ratio says how much real work posture adds on top of
touching every record once; it stays meaningful on a slow or busy machine.
``--compare-scope`` also times the full ``scope.scope_as_of`` resolution per
client, the reason posture.py asks only "which items are mentioned?".

Records are built as validated models (not timed): posture reads models, so
that is what is measured. A standalone script, not a test.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msptui.catalog import load_catalog  # noqa: E402
from msptui.models import Agreement, Client, InsurancePolicy, Review, RiskAcceptance  # noqa: E402
from msptui.posture import assess_records, load_settings  # noqa: E402

TODAY = date(2026, 11, 1)
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/Berlin", "Australia/Sydney"]
ENGAGEMENTS = ["managed", "co_managed", "security_only", "retainer", "block_hours", "break_fix", "project"]
SIGNED = {
    "status": "signed",
    "signed_at": "2025-01-02T15:00:00Z",
    "method": "e_signature",
    "signatories": [{"name": "Pat MSP", "side": "msp"}, {"name": "Chris Client", "side": "client"}],
}
NOTICE = {"kind": "fixed", "hours": 72}


def build(n_clients: int, n_reviews: int) -> dict[str, list]:
    """A mixed portfolio: every kind of gap sprinkled in at realistic-to-pessimistic rates.

    Per client: a signed MSA (1 in 17 unsigned, 1 in 23 lapsed) and a security
    schedule (1 in 11 leaves items out), one client cyber policy (expiry dates
    spread over 400 days, so ~10% expired and ~8% expiring; 1 in 13 under the
    limit), 20 reviews (some without education; some clients overdue), and for
    a third of clients a declined recommendation (1 in 5 unsigned, some stale).
    """
    items = list(load_catalog().items)
    states = ["included", "excluded", "client_responsibility", "third_party"]
    clients, agreements, acceptances, policies, reviews = [], [], [], [], []
    policies.append(InsurancePolicy.model_validate({"id": "msp-eo", "owner": "msp", "type": "tech_eo", "carrier": "C", "policy_number": "1",
                                                    "period_start": "2026-04-01", "period_end": "2027-03-31", "limit_aggregate": 2_000_000, "notice": NOTICE}))
    for i in range(n_clients):
        cid = f"c{i:05d}"
        clients.append(Client.model_validate({"id": cid, "name": f"Client {i}", "engagement": ENGAGEMENTS[i % 7], "home_tz": ZONES[i % 6],
                                              "review_cadence_days": 90 if i % 3 else 180}))
        msa = {"id": f"{cid}-msa", "client_id": cid, "type": "msa", "title": "MSA", "effective_from": "2024-01-01",
               "signature": SIGNED if i % 17 else {"status": "unsigned"},
               "clauses": [{"kind": "limitation_of_liability", "section": "11"}, {"kind": "security_disclaimer", "section": "8"},
                           {"kind": "client_insurance_required", "section": "12", "amount": 1_000_000}],
               "scope": [{"item": it, "state": "included"} for it in items[:5]]}
        if i % 23 == 0:
            msa["effective_to"] = "2026-06-30"
        agreements.append(Agreement.model_validate(msa))
        lines = items[5:] if i % 11 else items[5:15]
        agreements.append(Agreement.model_validate({
            "id": f"{cid}-schedb", "client_id": cid, "type": "schedule", "title": "Schedule B", "parent_id": f"{cid}-msa",
            "effective_from": "2024-01-01", "signature": SIGNED,
            "scope": [{"item": it, "state": states[k % 4]} for k, it in enumerate(lines)]}))
        end = TODAY + timedelta(days=(i % 400) - 40)
        policies.append(InsurancePolicy.model_validate({
            "id": f"{cid}-cyber", "owner": "client", "client_id": cid, "type": "cyber", "carrier": "C", "policy_number": str(i),
            "period_start": (end - timedelta(days=364)).isoformat(), "period_end": end.isoformat(),
            "limit_aggregate": 250_000 if i % 13 == 0 else 2_000_000, "notice": NOTICE}))
        if i % 3 == 0:  # a third of clients declined something; most signed it and re-affirm yearly
            ack = {"signed_by": "X", "signed_at": "2025-03-01T12:00:00Z"} if i % 5 else None
            again = [{"on": (TODAY - timedelta(days=100 + (i % 400))).isoformat(), "by": "X"}]
            acceptances.append(RiskAcceptance.model_validate({
                "id": f"{cid}-ra", "client_id": cid, "item": "mdr_soc", "recommendation": "24x7 MDR", "recommended_on": "2025-02-01",
                "decision": "declined", "decided_on": "2025-02-15", "acknowledgement": ack, "reaffirmations": again}))
        for r in range(n_reviews):
            held = TODAY - timedelta(days=30 + 45 * r + (i % 120))
            reviews.append(Review.model_validate({
                "id": f"{cid}-rev{r:02d}", "client_id": cid, "held_on": held.isoformat(), "topics": ["tickets"],
                "security_education": ["phishing"] if (i + r) % 9 else [],
                "recommendations": [{"id": "r1", "item": items[(i + r) % len(items)], "text": "do it",
                                     "decision": "declined" if (r == 0 and i % 29 == 0) else "accepted"}]}))
    return {"clients": clients, "agreements": agreements, "acceptances": acceptances, "policies": policies, "reviews": reviews}


def yardstick(data: dict[str, list]) -> int:
    """Group every record by client and read one field of each: the floor for any per-client pass."""
    groups: dict[str, list] = defaultdict(list)
    for kind in ("agreements", "acceptances", "reviews"):
        for r in data[kind]:
            groups[r.client_id].append(r)
    touched = 0
    for c in data["clients"]:
        for r in groups.get(c.id, ()):
            touched += r.id is not None
    for p in data["policies"]:
        touched += p.period_end is not None
    return touched


def run_posture(data: dict[str, list]) -> int:
    return len(assess_records(data["clients"], data["agreements"], data["acceptances"], data["policies"], data["reviews"], today=TODAY))


def run_scope_as_of(data: dict[str, list]) -> int:
    from msptui.scope import scope_as_of

    by: dict[str, list] = defaultdict(list)
    for a in data["agreements"]:
        by[a.client_id].append(a)
    return sum(len(scope_as_of(c, by[c.id], TODAY)) for c in data["clients"])


def timed(fn, data, repeat: int) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compare-scope", action="store_true", help="also time scope_as_of for every client")
    args = parser.parse_args()

    load_settings(), load_catalog()  # file reads are not what is measured
    t0 = time.perf_counter()
    data = build(args.clients, args.reviews)
    built = time.perf_counter() - t0
    total = sum(len(v) for v in data.values())
    print(f"python {platform.python_version()} on {platform.machine()}, {sys.platform}")
    print(f"portfolio: {args.clients:,} clients, {total:,} records ({len(data['reviews']):,} reviews); built in {built:.1f} s (not timed)")

    base, touched = timed(yardstick, data, args.repeat)
    ours, n = timed(run_posture, data, args.repeat)
    print(f"yardstick  group + touch every record : {base * 1000:8.1f} ms  ({touched:,} records)")
    print(f"posture    assess_records             : {ours * 1000:8.1f} ms  ({n:,} findings)")
    print(f"ratio      posture / yardstick        : {ours / base:8.1f} x")
    if args.compare_scope:
        full, _ = timed(run_scope_as_of, data, max(1, args.repeat // 2))
        print(f"reference  scope_as_of per client     : {full * 1000:8.1f} ms  ({full / ours:.1f} x posture)")
    budget = 1.0
    print(f"budget {budget:.1f} s: {'OK' if ours < budget else 'OVER'}")
    return 0 if ours < budget else 1


if __name__ == "__main__":
    sys.exit(main())
