"""``python -m msptui.cli`` runs the same command line as the ``msptui`` script."""

from msptui.cli import main

main(prog_name="msptui")
