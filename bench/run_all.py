"""Run every benchmark (``make bench``): event-store appends, then HTTP creates on the stack.

The HTTP benchmark needs the local stack; this brings it up (``helpdesk_devstack up`` is
idempotent) and leaves it running. Figures go to stdout; record them in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def run(*argv: str) -> None:
    print(f"\n$ {' '.join(argv)}", flush=True)
    subprocess.run(argv, check=True, cwd=BENCH.parent)


if __name__ == "__main__":
    run(sys.executable, str(BENCH / "event_store_appends.py"))
    run(sys.executable, "-m", "helpdesk_devstack", "up")
    run(sys.executable, str(BENCH / "http_create_tickets.py"))
