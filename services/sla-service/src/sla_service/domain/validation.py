"""Validation errors as one readable line, for the 422 answers of the admin APIs."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["problems"]


def problems(error: ValidationError) -> str:
    """One readable line: ``field.path: message; ...`` (the condition's union noise left out)."""
    found: list[str] = []
    for issue in error.errors():
        if issue["type"] == "is_instance_of":
            continue  # "should be a Condition": the text form's own error follows
        path = ".".join(
            str(part) for part in issue["loc"] if not str(part).startswith("function-after[")
        )
        message = issue["msg"].removeprefix("Value error, ")
        found.append(f"{path}: {message}" if path else message)
    return "; ".join(found) or str(error)
