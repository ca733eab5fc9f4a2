"""Shared helpers of the deploy-artefact tests (Tests/Deploy): paths, the linters from the test
virtualenv, the built binary, and facts read from the sources the artefacts must agree with
(the Dockerfile, docs/CONFIGURATION.md, the metrics the server exports)."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
VENV_BIN = pathlib.Path(sys.executable).parent

sys.path.insert(0, str(REPO / "scripts" / "container"))
import dockerfile  # noqa: E402  (scripts/container/dockerfile.py, the reader container-check uses)


def tool(name: str) -> str:
    """A linter installed in the test virtualenv (Tests/EndToEnd/requirements.txt)."""
    path = VENV_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run `make test-venv` (Tests/EndToEnd/requirements.txt lists it)")
    return found


def run(*command: str, env: dict | None = None, cwd: pathlib.Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("ENTROPYINFER_BIN", REPO / ".build" / "release" / "entropyinfer"))
    if not path.exists():
        pytest.fail(f"{path} does not exist; build it with `swift build -c release --product entropyinfer`")
    return path


def image_facts() -> dict:
    return dockerfile.read(str(REPO / "Dockerfile"))


def configuration_table() -> dict[str, dict]:
    """docs/CONFIGURATION.md's table (generated from the server's ConfigurationTable):
    file key -> {"env": ENTROPYINFER_X, "default": text}."""
    rows = {}
    for line in (REPO / "docs" / "CONFIGURATION.md").read_text().splitlines():
        match = re.match(r"\| `([a-z_]+)` \| `(ENTROPYINFER_[A-Z_]+)` \| `--[a-z-]+` \| [^|]+ \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = {"env": match.group(2), "default": match.group(3).strip().strip("`")}
    assert "port" in rows and "host" in rows, "cannot read the key table of docs/CONFIGURATION.md"
    return rows


def known_environment_variables() -> set[str]:
    """Every ENTROPYINFER_* variable the server reads: configuration keys plus the other ones
    docs/CONFIGURATION.md lists (ENTROPYINFER_HOME, ENTROPYINFER_CONFIG...)."""
    text = (REPO / "docs" / "CONFIGURATION.md").read_text()
    return set(re.findall(r"`(ENTROPYINFER_[A-Z_]+)`", text))


def default_configuration() -> dict:
    return json.loads((REPO / "config" / "entropyinfer.json").read_text())


def exported_metrics() -> set[str]:
    """Metric names /metrics exports, read from the server's exposition code."""
    source = (REPO / "Sources" / "Server" / "Metrics" / "MetricsExposition.swift").read_text()
    prefix = re.search(r'static let prefix = "([^"]+)"', source).group(1)
    return {prefix + name for name in re.findall(r'\(p \+ "([a-z0-9_]+)"', source)}


def load_manifests() -> dict[str, dict]:
    """deploy/kubernetes/*.yaml by kind (each file holds one object)."""
    manifests = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        documents = [document for document in yaml.safe_load_all(path.read_text()) if document]
        assert len(documents) == 1, f"{path.name}: one object per file"
        manifests[documents[0]["kind"]] = documents[0]
    return manifests


def check_config_file(path: pathlib.Path) -> subprocess.CompletedProcess:
    """Loads a config file with the server's own loader. `entropyinfer health` reads the same
    configuration as `serve` and exits 2 when it is invalid (the message names the key); with
    port 1 overriding the file it then fails to connect (exit 1), which means the file loaded."""
    environment = {"PATH": os.environ.get("PATH", ""), "ENTROPYINFER_CONFIG": str(path), "ENTROPYINFER_PORT": "1"}
    return run(str(binary()), "health", "--timeout", "2", env=environment)
