"""Prefect flows and the tinbai CLI.

Prefect reads its settings when it is first imported, so the defaults tinbai relies on
are set here, before any flow module imports it. Anything already in the environment wins.
"""
import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

PREFECT_DEFAULTS = {
    # One Prefect home per checkout: the ephemeral API database lives there, not in ~.
    "PREFECT_HOME": str(PROJECT_DIR / ".prefect"),
    # The ephemeral server otherwise logs "Failed to send telemetry" and, at times, a
    # "database is locked" traceback at exit.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # ...and the client's own SDK telemetry prints a first-run notice on a terminal unless
    # DO_NOT_TRACK is set (prefect/_internal/analytics/enabled.py in Prefect 3.8.8).
    "DO_NOT_TRACK": "1",
    # A cold ephemeral start (new PREFECT_HOME, migrations) takes ~14 s here; the
    # default 20 s timeout is too tight on a busy 2-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}

for _name, _value in PREFECT_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
