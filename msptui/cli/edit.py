"""``msptui edit TYPE ID``: change one record in $EDITOR, see the change, confirm, record it (one event).

As ``git commit`` and ``kubectl edit`` do: the record opens in $VISUAL /
$EDITOR as commented JSON (msptui.editing); a file that does not check out
reopens with the problem at the top; saving it unchanged, or quitting without
saving, gives up (exit 1 after a problem, 0 otherwise); emptying the file
cancels. A valid change is shown as a diff and recorded only after a yes
(``--yes`` skips the question).
"""

from __future__ import annotations

import click

from ..errors import UserError
from .base import Context, main, pass_ctx, say

#: a script editor that keeps writing the same bad file is not asked forever
MAX_ROUNDS = 20


@main.command("edit")
@click.argument("type_name", metavar="TYPE")
@click.argument("record_id", metavar="ID", required=False)
@click.option("--yes", "-y", "yes", is_flag=True, help="Record a valid change without asking.")
@pass_ctx
def edit(ctx: Context, type_name: str, record_id: str | None, yes: bool) -> None:
    """Edit one record in $EDITOR (TYPE: client, agreement, policy, review, risk, msp; ID optional for msp)."""
    from .. import editing

    model = editing.model_for(type_name)
    with ctx.open(writes=True) as store:
        original = editing.load(store, model, record_id)
        text = editing.render(original)
        error: str | None = None
        failed_body: str | None = None
        for _ in range(MAX_ROUNDS):
            edited_text = click.edit(text, extension=".json", require_save=True)
            if edited_text is None:
                if error:
                    raise UserError(f"edit abandoned, nothing recorded; the file still had a problem: {error}")
                say("edit cancelled (the file was not saved): nothing recorded")
                return
            body = editing.content(edited_text).strip()
            if error is not None and body == failed_body:
                raise UserError(f"edit abandoned (saved again unchanged), nothing recorded: {error}")
            try:
                data = editing.parse(edited_text)
                if data is None:
                    say("edit cancelled (the file was emptied): nothing recorded")
                    return
                changed = editing.check(store, original, data)
            except UserError as exc:
                error, failed_body = str(exc), body
                say(f"msptui: {editing.visible_line(error)}: reopening the file", err=True)
                text = editing.render(original, error=error, body=edited_text)
                continue
            break
        else:
            raise UserError(f"edit abandoned after {MAX_ROUNDS} attempts, nothing recorded: {error}")
        if editing.same(original, changed):
            say("no changes: nothing recorded")
            return
        say(*editing.diff(original, changed).split("\n"))  # one diff line per line; fields inside are escaped
        if not yes and not click.confirm(f"Record this change to {model.LABEL} {original.id}?", default=False):
            say("not recorded")
            return
        editing.record_edit(store, original, changed)
    say(f"recorded the change to {model.LABEL} {original.id}")
