"""The one exception type a user ever sees.

Anything raised as ``UserError`` is printed by the CLI as a single line and
exits 1; anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line."""
