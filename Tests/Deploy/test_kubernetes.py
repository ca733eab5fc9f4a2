"""deploy/kubernetes: schema-valid (kubernetes-validate --strict), lint-clean (yamllint), and
consistent with the image, the server's configuration and the metrics it exports."""
import json
import re

import yaml

from conftest import (DEPLOY, KUBERNETES, REPO, check_config_file, exported_metrics, image_facts,
                      known_environment_variables, load_manifests, run, tool)


def quantity_bytes(text: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    match = re.fullmatch(r"(\d+)([KMG]i?)?", text)
    return int(match.group(1)) * units.get(match.group(2) or "", 1)


def test_kubernetes_validate_strict_passes_every_manifest():
    files = sorted(str(path) for path in KUBERNETES.glob("*.yaml"))
    assert len(files) >= 5
    result = run(tool("kubernetes-validate"), "--strict", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(files), result.stdout
    assert "WARN" not in result.stdout + result.stderr


def test_kubernetes_validate_rejects_an_unknown_field(tmp_path):
    broken = (KUBERNETES / "deployment.yaml").read_text().replace("enableServiceLinks: false", "enableServiceLink: false")
    path = tmp_path / "deployment.yaml"
    path.write_text(broken)
    result = run(tool("kubernetes-validate"), "--strict", str(path))
    assert result.returncode != 0 and "enableServiceLink" in result.stdout + result.stderr


def test_yamllint_reports_nothing():
    result = run(tool("yamllint"), "-s", "-f", "parsable", "-c", str(DEPLOY / "yamllint.yaml"), str(DEPLOY))
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_yamllint_config_explains_each_change():
    config = yaml.safe_load((DEPLOY / "yamllint.yaml").read_text())
    text = (DEPLOY / "yamllint.yaml").read_text()
    assert config["extends"] == "default"
    for rule in config.get("rules", {}):
        comment = text[: text.index(f"  {rule}:")].rsplit("rules:", 1)[1]
        assert "#" in comment, f"yamllint rule {rule} is changed without a comment saying why"


def pod_spec():
    return load_manifests()["Deployment"]["spec"]["template"]["spec"]


def container(name):
    spec = pod_spec()
    return next(item for item in spec["containers"] + spec.get("initContainers", []) if item["name"] == name)


def test_deployment_keeps_kubernetes_service_variables_out():
    assert pod_spec()["enableServiceLinks"] is False


def test_probes_check_health_on_the_served_port():
    server = container("server")
    port_names = {port["name"]: port["containerPort"] for port in server["ports"]}
    assert port_names["http"] == int(image_facts()["runtime"]["expose"][0])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
    startup = server["startupProbe"]
    # At least as long as the image's HEALTHCHECK start period (model loading).
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300


def test_init_container_pulls_the_model_the_server_serves():
    pull, server = container("pull-model"), container("server")
    assert pull["args"] == ["pull", "--quiet", "$(ENTROPYINFER_MODEL)"]
    model = {item["name"]: item.get("value") for item in pull["env"]}["ENTROPYINFER_MODEL"]
    assert {item["name"]: item.get("value") for item in server["env"]}["ENTROPYINFER_MODEL"] == model
    assert pull["image"] == server["image"]
    home = image_facts()["runtime"]["env"]["ENTROPYINFER_HOME"]
    for item in (pull, server):
        mounts = {mount["name"]: mount["mountPath"] for mount in item["volumeMounts"]}
        assert mounts["models"] == home


def test_environment_names_are_variables_the_server_reads():
    known = known_environment_variables()
    for item in (container("pull-model"), container("server")):
        for variable in item["env"]:
            assert variable["name"] in known, variable["name"]


def test_config_map_holds_a_config_file_the_server_accepts(tmp_path):
    manifests = load_manifests()
    data = manifests["ConfigMap"]["data"]
    server = container("server")
    environment = {item["name"]: item.get("value") for item in server["env"]}
    mount = next(item for item in server["volumeMounts"] if item["name"] == "config")
    file_name = environment["ENTROPYINFER_CONFIG"].removeprefix(mount["mountPath"] + "/")
    path = tmp_path / file_name
    path.write_text(data[file_name])
    result = check_config_file(path)
    assert result.returncode == 1 and "unhealthy" in result.stderr, result.stderr
    configuration = json.loads(data[file_name])
    assert "host" not in configuration, "the image's ENTROPYINFER_HOST=0.0.0.0 would override it"
    assert configuration["port"] == server["ports"][0]["containerPort"]


def test_config_check_rejects_an_unknown_key(tmp_path):
    # The loader check above can fail: an unknown key exits 2 with the key named.
    path = tmp_path / "bad.json"
    path.write_text('{"treads": 2}')
    result = check_config_file(path)
    assert result.returncode == 2 and "treads" in result.stderr


def test_resources_match_the_engine_threads_and_measured_memory():
    server = container("server")
    configuration = json.loads(load_manifests()["ConfigMap"]["data"]["entropyinfer.json"])
    requests, limits = server["resources"]["requests"], server["resources"]["limits"]
    assert int(requests["cpu"]) == configuration["threads"]
    # docs/DEPLOYMENT.md: 450 MiB with a full context on smollm2-135m-instruct, +40 MiB for 256 connections.
    assert quantity_bytes(requests["memory"]) >= 490 * 2**20
    assert quantity_bytes(limits["memory"]) >= quantity_bytes(requests["memory"])


def test_graceful_stop_fits_the_termination_grace_period():
    spec = pod_spec()
    configuration = json.loads(load_manifests()["ConfigMap"]["data"]["entropyinfer.json"])
    pre_stop = container("server")["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > pre_stop + configuration["shutdown_timeout_seconds"]


def test_pods_run_as_the_image_user_with_a_read_only_root():
    spec = pod_spec()
    uid, gid = (int(part) for part in image_facts()["runtime"]["user"].split(":"))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert (spec["securityContext"]["runAsUser"], spec["securityContext"]["runAsGroup"]) == (uid, gid)
    for item in (container("pull-model"), container("server")):
        context = item["securityContext"]
        assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert "/tmp" in {mount["mountPath"] for mount in item["volumeMounts"]}


def test_service_and_disruption_budget_select_the_deployments_pods():
    manifests = load_manifests()
    labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert manifests["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifests["Service"]["spec"]["selector"].items() <= labels.items()
    assert manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifests["Service"]["spec"]["ports"][0]["targetPort"] == "http"


def test_autoscaler_scales_the_deployment_on_an_exported_metric():
    manifests = load_manifests()
    hpa = manifests["HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": manifests["Deployment"]["metadata"]["name"]}
    metric = hpa["spec"]["metrics"][0]["pods"]["metric"]["name"]
    adapter = yaml.safe_load((KUBERNETES / "prometheus-adapter" / "values.yaml").read_text())
    rules = {rule["name"]["as"]: re.match(r"([a-z_:0-9]+)\{", rule["seriesQuery"]).group(1) for rule in adapter["rules"]["custom"]}
    assert metric in rules, f"the HPA's metric {metric} is not served by prometheus-adapter/values.yaml"
    assert rules[metric] == "entropyinfer:num_requests_waiting"
    assert set(rules.values()) <= exported_metrics(), "prometheus-adapter asks for a series /metrics does not export"
    annotations = manifests["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == container("server")["ports"][0]["containerPort"]
    assert hpa["spec"]["minReplicas"] >= 2 or manifests["PodDisruptionBudget"]["spec"].get("maxUnavailable") == 0
