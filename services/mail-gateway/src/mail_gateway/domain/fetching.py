"""Which unseen mails one IMAP fetch takes: bounded by count and by bytes.

A fetch holds its whole answer in memory, and a mail may carry 20 MB of attachments (27 MB once
base64-encoded): a hundred such mails fetched at once would be gigabytes, and the fetch would
outlast any timeout, be cut, and start again — an error loop that never gets past them. So the
sizes (``RFC822.SIZE``, cheap for any server) are read first, and a fetch takes mails in UID
order while they fit the byte budget. A mail larger than the whole budget is fetched alone: it is
never skipped, or it would never be read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The most mails one fetch takes (one ``UID FETCH`` answer, one batch for the intake).
FETCH_COUNT = 100
#: The most bytes one fetch takes (the sum of the mails' ``RFC822.SIZE``), unless one mail alone
#: is larger.
FETCH_BYTES = 32 * 1024 * 1024
#: How fast a server is expected to send at the least, in bytes per second, beyond a fixed
#: minute: a fetch of many megabytes gets the time it needs, one that stalls is given up.
SLOWEST_BYTES_PER_SECOND = 256 * 1024

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def message_sizes(lines: Sequence[bytes | bytearray]) -> dict[int, int]:
    """``uid → size`` from the untagged lines of a ``UID FETCH … (UID RFC822.SIZE)`` answer
    (``* 7 FETCH (UID 42 RFC822.SIZE 1234)``, the items in any order)."""
    sizes: dict[int, int] = {}
    for line in lines:
        if b"FETCH" not in line:
            continue
        uid, size = _UID.search(line), _SIZE.search(line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def next_fetch(
    uids: Sequence[int],
    sizes: dict[int, int],
    *,
    max_count: int = FETCH_COUNT,
    max_bytes: int = FETCH_BYTES,
) -> list[int]:
    """The UIDs the next fetch takes: the lowest first, as many as fit ``max_count`` and
    ``max_bytes``, and always at least the first. A UID without a size (the server did not say,
    or the mail was expunged meanwhile) counts as empty: the fetch itself says what is there."""
    chosen: list[int] = []
    total = 0
    for uid in sorted(uids)[:max_count]:
        size = sizes.get(uid, 0)
        if chosen and total + size > max_bytes:
            break
        chosen.append(uid)
        total += size
    return chosen


def fetch_timeout(total_bytes: int) -> float:
    """Seconds a fetch of ``total_bytes`` may take in all (a stalled one is given up sooner by
    the client's idle timer)."""
    return 60.0 + total_bytes / SLOWEST_BYTES_PER_SECOND
