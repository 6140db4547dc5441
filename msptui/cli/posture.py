"""``msptui posture``: where the portfolio is exposed, before any breach.

Plain output is one finding per line, grouped by client, with the severity
as a word first (a terminal without colour, a printout or a screen reader
loses nothing). Severity is explained, not only ranked: the distinct ``why``
of each code shown is printed once under the findings, and ``--explain``
adds each finding's evidence and fix beneath it. Exit status is 0 whether or
not there are findings: findings are the answer, not an error.
"""

from __future__ import annotations

from datetime import datetime, timezone

import click

from ..models import Client
from ..posture import SEVERITY_RANK, Finding, assess
from .base import Context, emit_json, main, pass_ctx, say

MSP_HEADING = "MSP (own insurance)"


def render_text(findings: list[Finding], names: dict[str, str], *, explain: bool = False, client_id: str | None = None) -> str:
    """Plain text: client heading, then ``SEVERITY  code  message`` lines; whys once at the end."""
    return "\n".join(render_lines(findings, names, explain=explain, client_id=client_id))


def render_lines(findings: list[Finding], names: dict[str, str], *, explain: bool = False, client_id: str | None = None) -> list[str]:
    """The lines of ``render_text`` (each printed through ``say``, so a field cannot start a line of its own)."""
    if not findings:
        return [f"{client_id}: no findings" if client_id else "no findings: every client is clean"]
    lines: list[str] = []
    current: object = object()
    for f in findings:
        if f.client_id != current:
            current = f.client_id
            if lines:
                lines.append("")
            lines.append(MSP_HEADING if f.client_id is None else f"{f.client_id}  {names.get(f.client_id, '')}".rstrip())
        lines.append(f"  {f.severity.upper():<8}  {f.code:<24}  {f.message}")
        if explain:
            lines.append(f"  {'':<8}  evidence: {f.evidence}")
            lines.append(f"  {'':<8}  fix:      {f.fix}")
    clients = {f.client_id for f in findings if f.client_id is not None}
    msp = sum(1 for f in findings if f.client_id is None)
    summary = f"{len(findings)} finding(s) for {len(clients)} client(s)" + (f" and {msp} for the MSP itself" if msp else "")
    lines += ["", summary, "", "WHY THESE SEVERITIES"]
    seen: dict[str, Finding] = {}
    for f in findings:
        seen.setdefault(f.code, f)
    for code, f in sorted(seen.items(), key=lambda kv: (SEVERITY_RANK.get(kv[1].severity, 9), kv[0])):
        lines.append(f"  {code} ({f.severity}): {f.why}")
    return lines


@main.command()
@click.option("--client", "client_id", metavar="ID", help="Only this client's findings (the MSP's own insurance findings are left out).")
@click.option("--explain", is_flag=True, help="Show each finding's evidence and fix.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: a list of findings.")
@pass_ctx
def posture(ctx: Context, client_id: str | None, explain: bool, as_json: bool) -> None:
    """Contract, insurance and documentation gaps across the portfolio.

    Each client is assessed on its own local date (home_tz); the MSP's own
    policies on the MSP's date (MSPTUI_TZ, else the machine's zone).
    """
    with ctx.open() as store:
        if client_id is None:  # the whole portfolio, read one chunk of clients at a time (bounded memory)
            from ..posture_stream import assess_streamed

            findings = list(assess_streamed(store, now=datetime.now(timezone.utc)))
        else:
            findings = assess(store, client_id=client_id, now=datetime.now(timezone.utc))
        names: dict[str, str] = {}
        if not as_json:
            for cid in sorted({f.client_id for f in findings if f.client_id is not None}):
                client = store.get(Client, cid)
                names[cid] = client.name if client else ""
    if as_json:
        emit_json([f.as_dict() for f in findings])
        return
    say(*render_lines(findings, names, explain=explain, client_id=client_id))
