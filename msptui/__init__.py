"""msptui: the headless core.

Models, store, rules, export logic and CLI live here; the Textual UI lives in
``screens/`` and WeasyPrint is only imported inside the PDF child process, so
importing this package never pulls in either (tests/test_layout.py proves it).
"""

__version__ = "0.1.0"
