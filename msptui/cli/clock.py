"""Clock commands: ``deadline`` (one computed deadline) and ``rules`` (every obligation)."""

from __future__ import annotations

import click

from ..closures import load_closures
from ..deadlines import deadline_report
from ..obligations import DISCLAIMER, rules_report
from .base import emit_json, main, say


@main.command()
@click.option("--rule", "rule_id", required=True, metavar="RULE_ID", help="Obligation id (see 'msptui rules').")
@click.option("--trigger", "trigger", required=True, metavar="ISO8601", help="Local time in --tz, or with its own offset.")
@click.option("--tz", "tz", metavar="ZONE", help="IANA zone the trigger was observed in.")
@click.option("--closed", "closed", multiple=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="An extra closure day (office closed) for business-day counting; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def deadline(rule_id: str, trigger: str, tz: str | None, closed, as_json: bool) -> None:
    """Compute one deadline. First line of plain output: the due instant (ISO 8601 with offset)."""
    closures = load_closures() | {d.date() for d in closed}
    report = deadline_report(rule_id, trigger, tz, closures=closures)
    if as_json:
        emit_json(report)
        return
    due = report["due"]
    target = report.get("internal_target")
    if due:
        say(due)
    elif report["advisory"]:
        say("no due date: proposed rule, not in force (information only)")
    else:
        say(f"no fixed deadline; internal target {target}")
    lines = [
        f"{report['rule_id']}: {report['obligation']}",
        f"  due        {report['due_local'] or '(none: ' + ('proposed rule, not in force' if report['advisory'] else report['standard'] or 'no fixed period') + ')'}",
        f"  basis      {report['basis']}",
        f"  trigger    {report['trigger_local']} ({report['trigger_kind']})",
    ]
    if target:
        lines.append(f"  target     {report['internal_target_local']} (internal)")
    for alt in report["alternatives"]:
        lines.append(f"  info only  {alt['label']}: {alt['due_local']}")
    if report["label"]:
        lines.append(f"  NOTE       {report['label']} (confidence {report['confidence']}, source {report['source_quality']})")
    for warning in report["warnings"]:
        lines.append(f"  warning    {warning}")
    lines.append(f"  citation   {report['citation']}")
    lines.append(report["disclaimer"])
    say(*lines)


@main.command()
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Per jurisdiction: which duties (individuals, regulator, CRAs, vendor) have a rule on file.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def rules(show_coverage: bool, as_json: bool) -> None:
    """Every obligation rule with its citation and confidence (or, with --coverage, what is on file where)."""
    if show_coverage:
        _coverage(as_json)
        return
    rows = rules_report()
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        flag = f" [{r['label']}]" if r["label"] else (" [uncertain]" if r["uncertain"] else "")
        say(f"{r['id']:<40} {r['period']:<28} {r['confidence']:<6}{flag}", f"    {r['obligation']}", f"    {r['citation']}",
            f"    {r['source_quality']} source, checked {r['checked_on']}")
    say(DISCLAIMER)


def _coverage(as_json: bool) -> None:
    from ..rulecoverage import CORE_DUTIES, US_JURISDICTIONS, coverage

    records = coverage()
    if as_json:
        emit_json([r.as_dict() for r in records])
        return
    head = f"{'CODE':<7}{'NAME':<22}" + "".join(f"{d.upper():<12}" for d in CORE_DUTIES)
    lines = [head.rstrip()]
    for r in records:
        cells = "".join(f"{(str(len(r.duties[d])) if d in r.duties else '-'):<12}" for d in CORE_DUTIES)
        lines.append(f"{r.jurisdiction:<7}{r.name[:21]:<22}{cells}".rstrip())
    us = [r for r in records if r.jurisdiction in US_JURISDICTIONS]
    with_individuals = sum(1 for r in us if "individuals" in r.on_file)
    lines += [
        "",
        f"{with_individuals} of {len(US_JURISDICTIONS)} US jurisdictions (50 states, DC, PR, GU, VI) have a rule for",
        "notice to individuals on file. A number counts the rules on file for that duty;",
        "'-' = no rule on file: the law may have no such duty, or it has not been",
        "captured. Assess it manually: it is not a finding that nothing is required.",
        "A country not listed here has no rule on file.",
    ]
    say(*lines, DISCLAIMER)
