"""What an idle stack costs: the CPU the ticket service (API), its outbox relay and the mail
gateway spend while nothing happens, as a share of one core.

Starts the throwaway stack of ``mail_intake.py`` (PostgreSQL, Kafka, GreenMail and the services
on free ports), lets it settle, then reads each process's CPU time from /proc over
``--seconds``. CPU time, not wall time: other load on a shared machine changes it little.

    .venv/bin/python bench/idle_cpu.py --seconds 60
"""

from __future__ import annotations

import argparse
import time

from machine import describe
from mail_intake import cpu_seconds, throwaway_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to measure")
    parser.add_argument("--settle", type=float, default=20.0, help="wait this long first")
    args = parser.parse_args()
    print(describe())
    with throwaway_stack() as target:
        time.sleep(args.settle)
        before = {name: cpu_seconds(pid) for name, pid in target.pids.items()}
        began = time.monotonic()
        time.sleep(args.seconds)
        took = time.monotonic() - began
        after = {name: cpu_seconds(pid) for name, pid in target.pids.items()}
    print(f"idle for {took:.0f} s; CPU as a share of one core:")
    for name in target.pids:
        print(f"  {name:<15} {100 * (after[name] - before[name]) / took:5.2f} %")


if __name__ == "__main__":
    main()
