"""Settings from the environment, and the command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sla_service.__main__ import main
from sla_service.domain import BusinessCalendar, SlaMetric
from sla_service.settings import SlaSettings, default_calendar, default_policy


def test_defaults_are_documented_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HELPDESK_KAFKA_BOOTSTRAP", "HELPDESK_TOPIC_PARTITIONS", "HELPDESK_SLA_POLICY"):
        monkeypatch.delenv(name, raising=False)
    settings = SlaSettings()
    assert settings.kafka_bootstrap == "localhost:9092"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8002)
    assert settings.topic_partitions == 6
    assert settings.policy == default_policy()
    assert settings.policy.target("Urgent", SlaMetric.RESOLUTION) == timedelta(hours=4)
    assert settings.policy.target("Low", SlaMetric.FIRST_RESPONSE) == timedelta(hours=24)
    assert default_calendar().time_zone == "UTC"
    assert settings.warning_fraction == 0.75


def test_environment_overrides_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_KAFKA_BOOTSTRAP", "kafka:9093")
    monkeypatch.setenv("HELPDESK_TOPIC_PARTITIONS", "24")
    calendar = '{"time_zone": "Asia/Jakarta", "always_open": true}'
    monkeypatch.setenv("HELPDESK_SLA_CALENDAR", calendar)
    monkeypatch.setenv(
        "HELPDESK_SLA_POLICY",
        '{"name": "P", "targets": {"Low": {"first_response": 60, "resolution": 120}}}',
    )
    monkeypatch.setenv("HELPDESK_SLA_WARNING_FRACTION", "0.5")
    settings = SlaSettings()
    assert settings.kafka_bootstrap == "kafka:9093"
    assert settings.topic_partitions == 24
    assert settings.calendar == BusinessCalendar.twenty_four_seven("Asia/Jakarta")
    assert settings.policy.targets_for("Low").resolution == timedelta(minutes=2)
    assert settings.warning_fraction == 0.5


def test_the_jwt_public_key_is_the_stack_wide_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_JWT_PUBLIC_KEY_FILE", raising=False)
    monkeypatch.delenv("HELPDESK_SLA_JWT_PUBLIC_KEY_FILE", raising=False)
    assert SlaSettings().jwt_public_key_file == Path(".local/jwt/public.pem")
    monkeypatch.setenv("HELPDESK_JWT_PUBLIC_KEY_FILE", "/etc/helpdesk/jwt/public.pem")
    assert SlaSettings().jwt_public_key_file == Path("/etc/helpdesk/jwt/public.pem")


def test_bad_configuration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_SLA_WARNING_FRACTION", "1.5")
    with pytest.raises(ValueError, match="warning_fraction"):
        SlaSettings()


def test_command_line_needs_the_worker_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["serve"]) == 2
    assert "python -m sla_service worker" in capsys.readouterr().err
