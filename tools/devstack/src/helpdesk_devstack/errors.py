"""One error type whose message always says what went wrong and how to fix it."""

from __future__ import annotations


class DevstackError(Exception):
    """Something the local stack needs is missing or broken.

    ``problem`` says what is wrong, ``fix`` what to do about it and ``details`` (optional) carries
    evidence such as the last lines of a log, so that a newcomer can act on the message alone.
    """

    def __init__(self, problem: str, fix: str | None = None, details: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        self.details = details
        super().__init__(self.render())

    def render(self) -> str:
        parts = [self.problem]
        if self.fix:
            parts.append(f"  fix: {self.fix}")
        if self.details:
            parts.append(self.details.rstrip())
        return "\n".join(parts)
