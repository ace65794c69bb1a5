"""A library's ``log.exception`` keeps its traceback in the JSON log line, without the frames'
local variables (issue #13: aiokafka's "Unexpected error in coordinator routine" was logged with
its exception only as ``AssertionError()``, so where it was raised could not be told)."""

from __future__ import annotations

import logging

import orjson
import pytest
import structlog

from helpdesk_platform.telemetry import setup_logging


def _raise_with_secret_local() -> None:
    password = "hunter2-not-for-logs"
    if password:
        raise AssertionError("the coordinator's assertion")


def test_stdlib_and_structlog_exceptions_carry_frames_but_no_locals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("test-service")
    try:
        _raise_with_secret_local()
    except AssertionError:
        logging.getLogger("aiokafka.consumer.group_coordinator").exception("Unexpected error")
        structlog.get_logger().exception("failed")
    err = capsys.readouterr().err
    assert "hunter2-not-for-logs" not in err
    lines = [orjson.loads(line) for line in err.splitlines() if line.startswith("{")]
    library, own = lines[-2], lines[-1]
    assert library["logger"] == "aiokafka.consumer.group_coordinator"
    for line in (library, own):
        (exception,) = line["exception"]
        assert exception["exc_type"] == "AssertionError"
        assert exception["exc_value"] == "the coordinator's assertion"
        assert exception["frames"][-1]["name"] == "_raise_with_secret_local"
        assert all("locals" not in frame for frame in exception["frames"])
