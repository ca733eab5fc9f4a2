"""The Dockerfile: hadolint-clean, and consistent with the server it packages. (That the image
really runs is `make container-check`'s job.)"""
import fnmatch
import re
import subprocess

from conftest import REPO, binary, configuration_table, known_environment_variables, image_facts, run, tool

EXPLAINED_HADOLINT_IGNORES = {"DL3008"}  # version pins: the Dockerfile's header explains why


def test_hadolint_reports_nothing():
    result = run(tool("hadolint"), "--no-color", "Dockerfile")
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_hadolint_ignores_are_only_the_explained_ones():
    text = (REPO / "Dockerfile").read_text()
    ignored = set()
    for rules in re.findall(r"#\s*hadolint ignore=([A-Z0-9,]+)", text):
        ignored |= set(rules.split(","))
    assert ignored == EXPLAINED_HADOLINT_IGNORES
    for rule in ignored:
        assert f"hadolint {rule}" in text, f"{rule} is ignored without an explanation in the Dockerfile"


def test_hadolint_would_report_the_ignored_rule(tmp_path):
    # Proves hadolint really reads the file: without the pragmas it reports DL3008.
    stripped = re.sub(r"#\s*hadolint ignore=\S+\n", "", (REPO / "Dockerfile").read_text())
    copy = tmp_path / "Dockerfile"
    copy.write_text(stripped)
    result = run(tool("hadolint"), "--no-color", str(copy))
    assert result.returncode != 0 and "DL3008" in result.stdout


def test_runtime_stage_is_the_slim_image_of_the_builders_release():
    facts = image_facts()
    assert facts["runtime"]["base"] == f"debian:{facts['builder']['suite']}-slim"
    assert "--static-swift-stdlib" in facts["builder"]["swift_build"]
    assert facts["builder"]["swift_build"][:6] == ["swift", "build", "-c", "release", "--product", "entropyinfer"]


def test_image_runs_the_server_as_a_non_root_user_on_the_documented_port():
    runtime = image_facts()["runtime"]
    table = configuration_table()
    assert runtime["entrypoint"] == ["entropyinfer"] and runtime["cmd"] == ["serve"]
    assert runtime["healthcheck"] == ["entropyinfer", "health"]
    uid, gid = runtime["user"].split(":")
    assert int(uid) >= 1000 and int(gid) >= 1000
    assert runtime["expose"] == [table["port"]["default"]]
    assert runtime["env"]["ENTROPYINFER_HOST"] == "0.0.0.0"
    assert runtime["volumes"] == [runtime["env"]["ENTROPYINFER_HOME"]]
    assert runtime["stopsignal"] == "SIGTERM"
    assert set(runtime["env"]) <= known_environment_variables()


def test_runtime_packages_provide_every_shared_library_the_binary_loads():
    # The release binary of `make test` links the Swift runtime dynamically; the image's is static
    # (checked by container-check), so Swift's own libraries are left out here.
    needed = subprocess.run(["readelf", "-d", str(binary())], capture_output=True, text=True, check=True).stdout
    libraries = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", needed)
    swift_runtime = ("libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime", "lib_Testing")
    base_image = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2", "libpthread.so.0", "libdl.so.2"}
    packages = set(image_facts()["runtime"]["apt_packages"])
    for library in libraries:
        if library.startswith(swift_runtime) or library in base_image:
            continue
        owners = subprocess.run(["dpkg", "-S", f"*/{library}"], capture_output=True, text=True).stdout
        owner_packages = {line.split(":")[0] for line in owners.splitlines() if line}
        assert owner_packages & packages, f"{library} (from {owner_packages or 'no package'}) is not installed by the runtime stage"


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) for prefix in prefixes):
            excluded = not negated
    return excluded


def test_dockerignore_keeps_what_the_builder_copies_and_drops_build_products():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    copied = []
    for line in (REPO / "Dockerfile").read_text().splitlines():
        match = re.match(r"COPY (?!--from)(\S+) ", line)
        if match:
            copied.append(match.group(1))
    assert copied == ["Package.swift", "Sources", "Tests"]
    for source in copied:
        assert (REPO / source).exists()
        assert not dockerignore_excludes(source, patterns), f".dockerignore drops {source}, which the builder copies"
    for product in (".build", ".build/release/entropyinfer", "model.gguf", ".git"):
        assert dockerignore_excludes(product, patterns), f".dockerignore sends {product} to the build"
