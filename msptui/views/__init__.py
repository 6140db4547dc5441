"""Read models: what the CLI, the TUI and the dossier show, computed once in the core.

- ``incident``: one incident as of an instant (checklist with countdowns in
  urgency order, obligations, coverage, policies, timeline).
- ``portfolio``: the client list with posture badges (the TUI's home screen).
"""
