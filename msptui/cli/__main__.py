"""``python -m msptui.cli`` runs the same command line as the ``msptui`` script."""

if __name__ == "__main__":  # importing the module (a walk over msptui's modules) must not start the CLI or the TUI
    from msptui.cli import main

    main(prog_name="msptui")
