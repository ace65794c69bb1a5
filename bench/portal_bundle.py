"""A portal's first-screen download, gzip: the customer portal (issue #18; goal <= 150 KB) or,
with the argument ``agent``, the agent portal (issue #19: the admin area is lazy; <= 250 KB).

Reads the built ``web/dist/<portal>`` (``make web-build``): the files ``index.html`` loads (its
script, stylesheets and module preloads) make the first screen (the ticket list of a signed-in
customer); each lazy screen adds its own chunks, named by Vite after the screen's module.
Prints the gzip size (level 9, as servers compress static files ahead) of each and the total.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

from machine import describe

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
GOALS_KB = {"portal": 150, "agent": 250}


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def main(argv: list[str]) -> int:
    app = argv[0] if argv else "portal"
    if app not in GOALS_KB:
        print(f"usage: portal_bundle.py [{' | '.join(GOALS_KB)}]")
        return 2
    goal = GOALS_KB[app]
    dist = WEB_DIST / app
    asset = re.compile(rf'(?:src|href)="/{app}/(assets/[^"]+)"')
    index = dist / "index.html"
    if not index.is_file():
        print(f"web/dist/{app} is missing: run `make web-build` first")
        return 1
    print(describe())
    first = [index, *(dist / name for name in asset.findall(index.read_text()))]
    total = 0
    print("first screen:")
    for path in first:
        size = gzipped(path)
        total += size
        print(f"  {path.relative_to(dist)}: {size / 1024:.1f} KB")
    print(f"  total: {total / 1024:.1f} KB gzip (goal <= {goal} KB)")
    print("lazy chunks (loaded with their screen):")
    for path in sorted((dist / "assets").glob("*.js")):
        if path not in first:
            print(f"  {path.name}: {gzipped(path) / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
