"""``slsync`` sub-commands, one module per area (see ``integration/cli.py``)."""
