"""The customer portal's first-screen download, gzip (issue #18; goal <= 150 KB).

Reads the built ``web/dist/portal`` (``make web-build``): the files ``index.html`` loads (its
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

DIST = Path(__file__).resolve().parent.parent / "web" / "dist" / "portal"
ASSET = re.compile(r'(?:src|href)="/portal/(assets/[^"]+)"')


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def main() -> int:
    index = DIST / "index.html"
    if not index.is_file():
        print("web/dist/portal is missing: run `make web-build` first")
        return 1
    print(describe())
    first = [index, *(DIST / name for name in ASSET.findall(index.read_text()))]
    total = 0
    print("first screen:")
    for path in first:
        size = gzipped(path)
        total += size
        print(f"  {path.relative_to(DIST)}: {size / 1024:.1f} KB")
    print(f"  total: {total / 1024:.1f} KB gzip (goal <= 150 KB)")
    print("lazy chunks (loaded with their screen):")
    for path in sorted((DIST / "assets").glob("*.js")):
        if path not in first:
            print(f"  {path.name}: {gzipped(path) / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
