"""Which unseen mails one IMAP fetch takes (domain.fetching): by count and bytes, lowest UID
first, never none, and the sizes read from a real server's answer lines."""

from __future__ import annotations

from mail_gateway.domain.fetching import (
    FETCH_BYTES,
    FETCH_COUNT,
    SLOWEST_BYTES_PER_SECOND,
    fetch_timeout,
    message_sizes,
    next_fetch,
)

MB = 1024 * 1024


def test_small_mails_are_fetched_up_to_the_count_lowest_uid_first() -> None:
    uids = list(range(250, 0, -1))
    sizes = dict.fromkeys(uids, 2_000)
    assert next_fetch(uids, sizes) == list(range(1, FETCH_COUNT + 1))
    assert next_fetch(uids, sizes, max_count=3) == [1, 2, 3]


def test_a_fetch_stops_before_the_mail_that_would_pass_the_byte_budget() -> None:
    sizes = {1: 10 * MB, 2: 10 * MB, 3: 10 * MB, 4: 1}
    assert next_fetch([4, 3, 2, 1], sizes, max_bytes=25 * MB) == [1, 2]
    assert next_fetch([3, 4], sizes, max_bytes=25 * MB) == [3, 4]
    assert next_fetch([1, 2], sizes, max_bytes=20 * MB) == [1, 2]  # exactly the budget fits


def test_a_mail_larger_than_the_budget_is_fetched_alone_never_skipped() -> None:
    sizes = {7: 90 * MB, 8: 1_000}
    assert next_fetch([7, 8], sizes, max_bytes=FETCH_BYTES) == [7]
    assert next_fetch([8, 7], sizes, max_bytes=FETCH_BYTES) == [7]  # UID order, not the given one
    assert next_fetch([8], sizes, max_bytes=1) == [8]


def test_a_uid_without_a_size_counts_as_empty() -> None:
    assert next_fetch([1, 2, 3], {2: 5 * MB}, max_bytes=5 * MB) == [1, 2, 3]


def test_no_uid_no_fetch() -> None:
    assert next_fetch([], {}) == []


def test_sizes_are_read_from_fetch_lines_in_any_item_order() -> None:
    lines = [
        b"1 FETCH (UID 41 RFC822.SIZE 1234)",
        bytearray(b"2 FETCH (RFC822.SIZE 99 UID 42)"),
        b"3 FETCH (FLAGS (\\Seen) UID 43)",  # no size: not guessed
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    assert message_sizes(lines) == {41: 1234, 42: 99}


def test_a_larger_fetch_gets_more_time_beyond_a_minute() -> None:
    assert fetch_timeout(0) == 60.0
    assert fetch_timeout(32 * MB) == 60.0 + 32 * MB / SLOWEST_BYTES_PER_SECOND
    assert fetch_timeout(64 * MB) > fetch_timeout(32 * MB)
