"""The collision warning's rule: who else is on a ticket, for how long, viewing or replying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notification_service.domain.presence import (
    TTL,
    Activity,
    Heartbeat,
    Presence,
    next_expiry,
    others,
    shows_others_something_new,
)

T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def beat(
    agent: str,
    at: datetime,
    activity: Activity = Activity.VIEWING,
    session: str = "s1",
    since: datetime | None = None,
    name: str | None = None,
) -> Heartbeat:
    return Heartbeat(agent, session, activity, at, since or at, name or agent.title())


def test_the_viewer_never_sees_themself() -> None:
    beats = [beat("sari", T0), beat("budi", T0, Activity.REPLYING)]
    assert others(beats, "sari", T0) == [Presence("budi", "Budi", Activity.REPLYING, T0)]
    assert others(beats, "budi", T0) == [Presence("sari", "Sari", Activity.VIEWING, T0)]


def test_a_page_is_forgotten_thirty_seconds_after_its_last_heartbeat() -> None:
    beats = [beat("budi", T0)]
    assert [p.agent_id for p in others(beats, "sari", T0 + TTL - timedelta(seconds=1))] == ["budi"]
    assert others(beats, "sari", T0 + TTL) == []
    assert timedelta(seconds=30) == TTL  # "about 30 s" (#17)


def test_several_tabs_of_one_agent_count_once_replying_when_any_is() -> None:
    early = T0 - timedelta(minutes=2)
    beats = [
        beat("budi", T0, session="tab1", since=early),
        beat("budi", T0, Activity.REPLYING, session="tab2"),
        beat("budi", T0 - TTL, Activity.REPLYING, session="stale"),
    ]
    assert others(beats, "sari", T0) == [Presence("budi", "Budi", Activity.REPLYING, early)]
    # The stale tab's "replying" has run out: only a live tab counts.
    assert others(beats[:1] + beats[2:], "sari", T0)[0].activity is Activity.VIEWING


def test_a_renewing_heartbeat_leaves_the_list_equal_and_sorted_by_name() -> None:
    first = [beat("zed", T0, name="Zed"), beat("ani", T0, name="ani")]
    renewed = [
        beat("zed", T0 + timedelta(seconds=10), since=T0, name="Zed"),
        beat("ani", T0 + timedelta(seconds=10), since=T0, name="ani"),
    ]
    now = T0 + timedelta(seconds=11)
    assert others(first, "me", now) == others(renewed, "me", now)
    assert [p.name for p in others(first, "me", now)] == ["ani", "Zed"]


def test_only_appearing_or_changing_activity_is_news_to_the_others() -> None:
    previous = beat("budi", T0)
    later = T0 + timedelta(seconds=10)
    assert shows_others_something_new(None, Activity.VIEWING, later)
    assert not shows_others_something_new(previous, Activity.VIEWING, later)
    assert shows_others_something_new(previous, Activity.REPLYING, later)
    assert shows_others_something_new(previous, Activity.VIEWING, T0 + TTL)  # had run out


def test_next_expiry_is_the_first_other_heartbeat_to_run_out() -> None:
    beats = [
        beat("sari", T0 - timedelta(seconds=20)),  # the viewer's own: not waited for
        beat("budi", T0 - timedelta(seconds=5)),
        beat("ani", T0 - timedelta(seconds=10)),
        beat("old", T0 - timedelta(seconds=40)),  # already gone
    ]
    assert next_expiry(beats, "sari", T0) == T0 - timedelta(seconds=10) + TTL
    assert next_expiry(beats[:1], "sari", T0) is None
