"""scripts/container/dockerfile.py, the Dockerfile reader `make container-check` relies on: it
must read what the image does and refuse what it cannot follow, never skip it."""
import re

import pytest

import dockerfile

MINIMAL = """\
# syntax comment
FROM swift:6.3.1-bookworm AS builder
RUN apt-get update \\
    # a comment inside a continuation, as Docker allows
    && apt-get install -y --no-install-recommends libfoo-dev \\
    && rm -rf /var/lib/apt/lists/*
RUN swift build -c release --product entropyinfer --static-swift-stdlib \\
    && install -D x /out/entropyinfer
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libfoo1 ca-certificates
COPY --from=builder /out/entropyinfer /usr/local/bin/entropyinfer
ENV A=1 \\
    B="two words"
USER 10001
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=5m CMD ["entropyinfer", "health"]
ENTRYPOINT ["entropyinfer"]
CMD ["serve"]
"""


def read(text: str) -> dict:
    stages = dockerfile.read_stages(text)
    builder = dockerfile.builder_facts(next(stage for stage in stages if stage.name == "builder"))
    return {"builder": builder, "runtime": dockerfile.runtime_facts(stages[-1], builder)}


def test_reads_both_stages():
    facts = read(MINIMAL)
    assert facts["builder"]["apt_packages"] == ["libfoo-dev"]
    assert facts["builder"]["swift_build"] == ["swift", "build", "-c", "release", "--product", "entropyinfer", "--static-swift-stdlib"]
    assert facts["builder"]["swift_version"] == "6.3.1" and facts["builder"]["suite"] == "bookworm"
    runtime = facts["runtime"]
    assert runtime["suite"] == "bookworm"
    assert runtime["apt_packages"] == ["libfoo1", "ca-certificates"]
    assert runtime["env"] == {"A": "1", "B": "two words"}
    assert runtime["user"] == "10001:10001" and runtime["workdir"] == "/data"
    assert runtime["entrypoint"] == ["entropyinfer"] and runtime["cmd"] == ["serve"]
    assert runtime["healthcheck"] == ["entropyinfer", "health"]
    assert runtime["healthcheck_options"] == {"interval": "30s", "timeout": "10s", "start-period": "5m"}
    assert runtime["copies"] == [{"source": "/out/entropyinfer", "destination": "/usr/local/bin/entropyinfer"}]


def test_build_script_runs_each_run_step_with_its_environment():
    text = MINIMAL.replace("FROM debian:bookworm-slim\n", "FROM debian:bookworm-slim\nENV DEBIAN_FRONTEND=noninteractive\n")
    stages = dockerfile.read_stages(text)
    builder = dockerfile.builder_facts(stages[0])
    script = dockerfile.build_script({"runtime": dockerfile.runtime_facts(stages[-1], builder)})
    assert "env DEBIAN_FRONTEND=noninteractive /bin/sh -c 'apt-get update && apt-get install -y" in script
    assert script.startswith("#!/bin/sh") and "set -e" in script


@pytest.mark.parametrize("change, message", [
    (('ENTRYPOINT ["entropyinfer"]', "ENTRYPOINT entropyinfer"), "exec (JSON) form"),
    (('CMD ["entropyinfer", "health"]', "CMD entropyinfer health"), "exec (JSON) form"),
    (("USER 10001\n", "USER 10001\nRUN true\n"), "RUN after USER"),
    (("USER 10001", "USER entropyinfer"), "numeric"),
    (("WORKDIR /data", "ADD x /x"), "ADD in the runtime stage"),
    (("FROM debian:bookworm-slim", "FROM debian"), "no tag"),
    (("ENV A=1", "ENV A=$PATH"), "substitution"),
    (("RUN swift build", "RUN swiftc"), "no `swift build`"),
])
def test_refuses_what_it_cannot_follow(change, message):
    old, new = change
    assert old in MINIMAL
    with pytest.raises(dockerfile.DockerfileError, match=re.escape(message)):
        read(MINIMAL.replace(old, new))


def test_repository_dockerfile_is_readable():
    facts = dockerfile.read(str(dockerfile.__file__).replace("scripts/container/dockerfile.py", "Dockerfile"))
    assert facts["runtime"]["apt_packages"], "the runtime stage installs no packages"
