"""deploy/docker-compose.yml: interpolated and parsed as Compose does (variables substituted in
the loaded YAML's strings, then the strict Compose-spec parser of the compose-spec package), and
consistent with the image. No Docker engine is needed."""
import copy
import re

import pytest
import yaml
from compose_spec import PyCompose

from conftest import DEPLOY, REPO, default_configuration, image_facts, known_environment_variables

COMPOSE_FILE = DEPLOY / "docker-compose.yml"
VARIABLE = re.compile(r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<argument>[^}]*))?\}|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value, environment: dict):
    """Compose's variable substitution: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, $$ (a literal $), applied to every string of the loaded file."""
    if isinstance(value, dict):
        return {key: interpolate(item, environment) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environment) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("plain")
        operator, argument = match.group("op"), match.group("argument") or ""
        if operator == ":-":
            return environment.get(name) or argument
        if operator == "-":
            return environment.get(name, argument)
        if operator in (":?", "?") and not environment.get(name):
            raise ValueError(f"required variable {name} is missing: {argument}")
        return environment.get(name, "")

    return VARIABLE.sub(substitute, value)


def load(environment: dict | None = None) -> dict:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return interpolate(raw, environment or {})


def parse(document: dict) -> PyCompose:
    compose = PyCompose.from_yaml(yaml.safe_dump(document))
    compose.validate()
    return compose


def test_compose_file_parses_with_defaults_and_with_settings():
    parse(load())
    parse(load({"ENTROPYINFER_MODEL": "qwen2.5-coder-0.5b-instruct", "ENTROPYINFER_PUBLISH": "0.0.0.0:9000",
                "ENTROPYINFER_API_KEY": "sk-local", "ENTROPYINFER_THREADS": "4"}))


@pytest.mark.parametrize("path, value, message", [
    (("services", "entropyinfer", "stop_grace_periode"), "40s", "stop_grace_periode"),
    (("services", "entropyinfer", "depends_on", "pull", "condition"), "service_done", "service_done"),
    (("services", "entropyinfer", "healthcheck", "interval"), "often", "often"),
    (("services", "entropyinfer", "ports"), ["not-an-ip:8080:8080"], "ip"),
])
def test_parser_rejects_mistakes(path, value, message):
    # Proves the parser is strict: each of these is a typo a real `docker compose` rejects too.
    document = copy.deepcopy(load())
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValueError, match=message):
        parse(document)


def test_services_use_the_image_built_from_the_repository():
    services = load()["services"]
    for name in ("pull", "entropyinfer"):
        build = services[name]["build"]
        assert (COMPOSE_FILE.parent / build["context"]).resolve() == REPO
        assert build["dockerfile"] == "Dockerfile"
        assert services[name]["image"] == services["entropyinfer"]["image"]


def test_server_starts_after_the_model_is_pulled_into_the_shared_volume():
    document = load()
    services, home = document["services"], image_facts()["runtime"]["env"]["ENTROPYINFER_HOME"]
    assert services["pull"]["command"] == ["pull", "smollm2-135m-instruct"]
    assert services["entropyinfer"]["environment"]["ENTROPYINFER_MODEL"] == "smollm2-135m-instruct"
    assert services["entropyinfer"]["depends_on"]["pull"]["condition"] == "service_completed_successfully"
    for name in ("pull", "entropyinfer"):
        volume, target = services[name]["volumes"][0].split(":")
        assert target == home and volume in document["volumes"]
    assert services["pull"]["restart"] == "no"


def test_server_health_stop_and_port_match_the_image():
    runtime = image_facts()["runtime"]
    server = load()["services"]["entropyinfer"]
    assert server["healthcheck"]["test"] == ["CMD", *runtime["healthcheck"]]
    published, container_port = server["ports"][0].rsplit(":", 1)
    assert container_port == runtime["expose"][0]
    assert published.startswith("127.0.0.1:"), "the API is open without a key: publish on loopback by default"
    grace = int(server["stop_grace_period"].removesuffix("s"))
    assert grace > default_configuration()["shutdown_timeout_seconds"]
    assert server["stop_signal"] == runtime["stopsignal"]
    assert server["restart"] == "unless-stopped"
    assert server["read_only"] is True and "/tmp" in server["tmpfs"]


def test_environment_names_are_variables_the_server_reads():
    known = known_environment_variables()
    for service in load()["services"].values():
        for name in service.get("environment", {}):
            assert name in known, name
