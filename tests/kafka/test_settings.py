"""The bridge is configured by its command line, or by TOWPATH_BRIDGE_* variables for what
the command line leaves out."""

from __future__ import annotations

import pytest

from towpath.kafka_bridge.settings import parse_settings

REQUIRED = [
    "--url=http://towpath:8000",
    "--api-key=tp_key",
    "--queue=resize",
    "--bootstrap-servers=kafka:9092",
    "--tasks-topic=tasks",
    "--results-topic=results",
]


def test_the_command_line_names_everything_and_the_rest_has_defaults() -> None:
    settings = parse_settings([*REQUIRED, "--group-id=bridges"], environ={})

    assert (settings.url, settings.queue, settings.group_id) == (
        "http://towpath:8000",
        "resize",
        "bridges",
    )
    assert (settings.max_in_flight, settings.lease_seconds, settings.wait_seconds) == (100, 60, 20)
    assert settings.heartbeat_seconds == 20


def test_the_environment_fills_in_what_the_command_line_leaves_out() -> None:
    environ = {
        "TOWPATH_BRIDGE_API_KEY": "tp_from_env",
        "TOWPATH_BRIDGE_MAX_IN_FLIGHT": "5",
        "TOWPATH_BRIDGE_QUEUE": "from-env",
    }

    settings = parse_settings([*REQUIRED[:2], *REQUIRED[3:], "--api-key=tp_flag"], environ)

    assert (settings.api_key, settings.queue, settings.max_in_flight) == ("tp_flag", "from-env", 5)


@pytest.mark.parametrize(
    "wrong", [[], ["--max-in-flight=0"], ["--lease-seconds=4"], ["--wait-seconds=31"]]
)
def test_a_missing_or_out_of_range_setting_stops_it_with_usage(
    wrong: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    given = REQUIRED[1:] if not wrong else [*REQUIRED, *wrong]

    with pytest.raises(SystemExit) as stopped:
        parse_settings(given, environ={})

    assert stopped.value.code == 2
    assert "usage: python -m towpath.kafka_bridge" in capsys.readouterr().err
