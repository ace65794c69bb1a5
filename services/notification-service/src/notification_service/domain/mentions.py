"""Who an internal note mentions: ``@Sari Dewi`` or ``@sari@example.com``, resolved against the
directory.

Names hold spaces, so a mention is not a token: at each ``@`` the longest agent name or email
that follows (case-insensitively, ending at a word boundary) is the one meant. ``@Sari Dewi``
is Sari Dewi even when another agent is called Sari; an ``@`` inside an email address
(``budi@example.com``) is not a mention, since a letter comes right before it.
"""

from __future__ import annotations

from collections.abc import Iterable

from notification_service.domain.views import Agent


def _ends_at_boundary(text: str, end: int) -> bool:
    return end >= len(text) or not (text[end].isalnum() or text[end] in "_-")


def mentioned_agents(text: str, agents: Iterable[Agent]) -> frozenset[str]:
    """Ids of the active agents ``text`` mentions."""
    if "@" not in text:
        return frozenset()
    candidates: list[tuple[str, str]] = []
    for agent in agents:
        if not agent.active:
            continue
        for handle in (agent.email, agent.name):
            if handle:
                candidates.append((handle.casefold(), agent.agent_id))
    candidates.sort(key=lambda c: len(c[0]), reverse=True)  # the longest handle wins
    folded = text.casefold()
    found: set[str] = set()
    start = folded.find("@")
    while start != -1:
        preceded_by_word = start > 0 and (folded[start - 1].isalnum() or folded[start - 1] in "._")
        if not preceded_by_word:
            for handle, agent_id in candidates:
                end = start + 1 + len(handle)
                if folded.startswith(handle, start + 1) and _ends_at_boundary(folded, end):
                    found.add(agent_id)
                    break
        start = folded.find("@", start + 1)
    return frozenset(found)
