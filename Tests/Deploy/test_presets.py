"""config/presets/*.json: loaded by the server's own configuration loader, and each one changes
the settings its name promises in the direction the measurements (config/presets/README.md)
call for."""
import json

import pytest

from conftest import REPO, check_config_file, default_configuration

PRESETS = REPO / "config" / "presets"


def preset(name: str) -> dict:
    return json.loads((PRESETS / f"{name}.json").read_text())


@pytest.mark.parametrize("name", ["long-context", "low-memory", "many-clients"])
def test_preset_loads_with_the_servers_loader(name):
    result = check_config_file(PRESETS / f"{name}.json")
    assert result.returncode == 1 and "unhealthy" in result.stderr, result.stderr


def test_every_preset_is_documented():
    readme = (PRESETS / "README.md").read_text()
    names = sorted(path.stem for path in PRESETS.glob("*.json"))
    assert names == ["long-context", "low-memory", "many-clients"]
    for name in names:
        assert f"`{name}.json`" in readme
        for key in preset(name):
            assert f"`{key}`" in readme, f"{name}.json sets {key} without a reason in README.md"


def mebibytes(size: str) -> float:
    units = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
    return float(size[:-3]) * units[size[-3:]]


def test_low_memory_bounds_context_connections_and_bodies():
    defaults, low = default_configuration(), preset("low-memory")
    # Two full 2,048-token SmolLM2 contexts at 22.5 KiB per token, not the default 4 x 8,192.
    assert 2 * 2048 * 22.5 / 1024 <= mebibytes(low["kv_memory"]) <= 128
    assert low["max_running_sessions"] < defaults["max_running_sessions"]
    assert 0 < low["context_length"] <= 2048
    assert low["connection_limit"] < defaults["connection_limit"]
    assert low["max_body_bytes"] < defaults["max_body_bytes"]
    assert low["max_queue"] < defaults["max_queue"]


def test_long_context_uses_the_models_length_and_waits_for_long_requests():
    defaults, long = default_configuration(), preset("long-context")
    assert long["context_length"] == 0
    assert long["shutdown_timeout_seconds"] > defaults["shutdown_timeout_seconds"]
    assert long["max_queue"] < defaults["max_queue"]
    # At least two full 32,768-token Qwen2.5-Coder-0.5B contexts at 12 KiB per token.
    assert mebibytes(long["kv_memory"]) >= 2 * 32768 * 12 / 1024


def test_many_clients_raises_connection_and_queue_limits():
    defaults, many = default_configuration(), preset("many-clients")
    assert many["connection_limit"] > defaults["connection_limit"]
    assert many["max_queue"] > defaults["max_queue"]
    assert many["connection_timeout_seconds"] < defaults["connection_timeout_seconds"]
    assert many["max_running_sessions"] > defaults["max_running_sessions"]
    assert mebibytes(many["kv_memory"]) >= many["max_running_sessions"] * 2048 * 22.5 / 1024
