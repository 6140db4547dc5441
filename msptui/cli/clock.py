"""Clock commands: ``deadline`` (one computed deadline) and ``rules`` (every obligation)."""

from __future__ import annotations

import click

from ..closures import load_closures
from ..deadlines import deadline_report
from ..obligations import DISCLAIMER, rules_report
from .base import echo_text, emit_json, main


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
    click.echo(due if due else f"no fixed deadline; internal target {target}")
    lines = [
        f"{report['rule_id']}: {report['obligation']}",
        f"  due        {report['due_local'] or '(none: ' + (report['standard'] or 'no fixed period') + ')'}",
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
    echo_text("\n".join(lines))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def rules(as_json: bool) -> None:
    """Every obligation rule with its citation and confidence."""
    rows = rules_report()
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        flag = f" [{r['label']}]" if r["label"] else (" [uncertain]" if r["uncertain"] else "")
        echo_text(f"{r['id']:<40} {r['period']:<28} {r['confidence']:<6}{flag}\n    {r['obligation']}\n    {r['citation']}")
    click.echo(DISCLAIMER)
