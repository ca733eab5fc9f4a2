#!/usr/bin/env python3
"""Reads the repository's Dockerfile for scripts/container-check.sh, so the check runs what the
image runs and cannot drift from it.

    dockerfile.py vars DOCKERFILE          bash assignments (eval them): BUILDER_*, RUNTIME_*
    dockerfile.py build-script DOCKERFILE  POSIX sh script doing the runtime stage's RUN steps
    dockerfile.py json DOCKERFILE          both stages as JSON (for tests and debugging)

Stages: the one named `builder` and the last one (the image). Only the instruction forms this
project's Dockerfile uses are understood; anything else is an error naming the line, so a change
the check cannot follow fails the check instead of being skipped.
"""
import json
import re
import shlex
import sys
from dataclasses import dataclass, field


class DockerfileError(Exception):
    pass


@dataclass
class Instruction:
    line: int          # 1-based line where the instruction starts
    keyword: str       # upper case
    arguments: str     # the rest, continuation lines joined with a space

    def exec_form(self) -> list[str] | None:
        """The JSON array form (`["a", "b"]`), or None for the shell form."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise DockerfileError(f"line {self.line}: {self.keyword} is not a valid JSON array: {error}")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise DockerfileError(f"line {self.line}: {self.keyword} must be a JSON array of strings")
        return value


@dataclass
class Stage:
    name: str | None
    base: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)


def read_instructions(text: str) -> list[Instruction]:
    """Joins continuation lines (`\\` at the end), drops comment and blank lines (also inside a
    continuation, as Docker does) and splits each instruction into keyword and arguments."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        continues = raw.rstrip().endswith("\\")
        pending.append(raw.rstrip()[:-1].strip() if continues else stripped)
        if continues:
            continue
        joined = " ".join(part for part in pending if part)
        pending = []
        keyword, _, arguments = joined.partition(" ")
        if "<<" in arguments and keyword.upper() in ("RUN", "COPY"):
            raise DockerfileError(f"line {start}: heredocs are not supported by container-check")
        instructions.append(Instruction(start, keyword.upper(), arguments.strip()))
    if pending:
        raise DockerfileError("the Dockerfile ends inside a continuation line")
    return instructions


def read_stages(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for instruction in read_instructions(text):
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            if any(word.startswith("--") for word in words):
                raise DockerfileError(f"line {instruction.line}: FROM options are not supported by container-check")
            if "$" in instruction.arguments:
                raise DockerfileError(f"line {instruction.line}: FROM with ARG substitution is not supported by container-check")
            if len(words) == 3 and words[1].upper() == "AS":
                stages.append(Stage(words[2], words[0], instruction.line))
            elif len(words) == 1:
                stages.append(Stage(None, words[0], instruction.line))
            else:
                raise DockerfileError(f"line {instruction.line}: cannot read FROM {instruction.arguments!r}")
        elif not stages:
            raise DockerfileError(f"line {instruction.line}: {instruction.keyword} before the first FROM")
        else:
            stages[-1].instructions.append(instruction)
    if not stages:
        raise DockerfileError("no FROM in the Dockerfile")
    return stages


def shell_commands(script: str) -> list[list[str]]:
    """Splits a shell-form RUN into its simple commands at `&&`, `||`, `;` and `|`."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "||", ";", "|", "&"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def apt_packages(instructions: list[Instruction]) -> list[str]:
    """The package names of every `apt-get install` in the RUN instructions."""
    packages: list[str] = []
    for instruction in instructions:
        if instruction.keyword != "RUN":
            continue
        for command in shell_commands(instruction.arguments):
            if command[:2] == ["apt-get", "install"] or (command[:1] == ["apt-get"] and "install" in command):
                after = command[command.index("install") + 1:]
                packages += [word for word in after if not word.startswith("-")]
    return packages


def debian_suite(image: str) -> str:
    """`debian:bookworm-slim` -> bookworm, `swift:6.3.1-bookworm` -> bookworm."""
    repository, _, tag = image.partition(":")
    if not tag:
        raise DockerfileError(f"image {image!r} has no tag; container-check needs the Debian release in it")
    for suite in ("bookworm", "trixie", "bullseye", "sid"):
        if re.search(rf"(^|-){suite}(-|$)", tag):
            return suite
    raise DockerfileError(f"cannot tell the Debian release of {image!r} from its tag")


def builder_facts(stage: Stage) -> dict:
    build_command = None
    for instruction in stage.instructions:
        if instruction.keyword != "RUN":
            continue
        for command in shell_commands(instruction.arguments):
            if command[:2] == ["swift", "build"] and "--show-bin-path" not in command:
                if build_command is not None:
                    raise DockerfileError(f"line {instruction.line}: more than one `swift build` in the builder stage")
                build_command = command
                build_instruction = instruction
    if build_command is None:
        raise DockerfileError("the builder stage has no `swift build` command")
    image, _, tag = stage.base.partition(":")
    version = re.match(r"(\d+\.\d+(?:\.\d+)?)", tag)
    return {
        "base": stage.base,
        "suite": debian_suite(stage.base),
        "swift_version": version.group(1) if version else "",
        "apt_packages": apt_packages(stage.instructions),
        "swift_build": build_command,
        "swift_build_run": build_instruction.arguments,
    }


def runtime_facts(stage: Stage, builder: dict) -> dict:
    facts = {
        "base": stage.base, "suite": debian_suite(stage.base), "apt_packages": apt_packages(stage.instructions),
        "runs": [], "env": {}, "user": "0:0", "workdir": "/", "entrypoint": [], "cmd": [],
        "healthcheck": [], "healthcheck_options": {}, "volumes": [], "expose": [], "stopsignal": "SIGTERM",
        "copies": [],
    }
    workdir_at_run = "/"
    seen_user = False
    for instruction in stage.instructions:
        keyword, arguments = instruction.keyword, instruction.arguments
        where = f"line {instruction.line}"
        if keyword == "RUN":
            if seen_user:
                raise DockerfileError(f"{where}: RUN after USER is not supported by container-check; move it before USER")
            if facts["copies"]:
                raise DockerfileError(f"{where}: RUN after COPY is not supported by container-check")
            if instruction.exec_form() is not None or arguments.startswith("--"):
                raise DockerfileError(f"{where}: only shell-form RUN without options is supported by container-check")
            facts["runs"].append({"line": instruction.line, "script": arguments, "env": dict(facts["env"]), "workdir": workdir_at_run})
        elif keyword == "ENV":
            if "$" in arguments:
                raise DockerfileError(f"{where}: ENV with substitution is not supported by container-check")
            words = shlex.split(arguments)
            if words and all("=" in word for word in words):
                for word in words:
                    key, _, value = word.partition("=")
                    facts["env"][key] = value
            elif len(words) >= 2:
                facts["env"][words[0]] = " ".join(words[1:])
            else:
                raise DockerfileError(f"{where}: cannot read ENV {arguments!r}")
        elif keyword == "USER":
            seen_user = True
            facts["user"] = arguments.strip()
            if not re.fullmatch(r"\d+(:\d+)?", facts["user"]):
                raise DockerfileError(f"{where}: USER must be numeric (uid:gid), as Kubernetes' runAsNonRoot needs")
            if ":" not in facts["user"]:
                facts["user"] += ":" + facts["user"]
        elif keyword == "WORKDIR":
            facts["workdir"] = arguments.strip()
            workdir_at_run = facts["workdir"]
        elif keyword == "COPY":
            words = arguments.split()
            origin = [word for word in words if word.startswith("--from=")]
            paths = [word for word in words if not word.startswith("--")]
            if len(origin) != 1 or origin[0] != "--from=builder" or len(paths) != 2 or len(words) != 3:
                raise DockerfileError(f"{where}: only `COPY --from=builder SOURCE DESTINATION` is supported by container-check")
            source, destination = paths
            if source not in builder["swift_build_run"]:
                raise DockerfileError(f"{where}: {source} is not made by the builder stage's `swift build` RUN")
            facts["copies"].append({"source": source, "destination": destination})
        elif keyword in ("ENTRYPOINT", "CMD"):
            form = instruction.exec_form()
            if form is None:
                raise DockerfileError(f"{where}: {keyword} must use the exec (JSON) form so SIGTERM reaches the server")
            facts[keyword.lower()] = form
        elif keyword == "HEALTHCHECK":
            words = arguments.split()
            options = {}
            while words and words[0].startswith("--"):
                key, _, value = words.pop(0)[2:].partition("=")
                options[key] = value
            if not words or words[0].upper() != "CMD":
                raise DockerfileError(f"{where}: HEALTHCHECK must be `HEALTHCHECK [OPTIONS] CMD [...]`")
            form = Instruction(instruction.line, "HEALTHCHECK", arguments[arguments.upper().index("CMD") + 3:]).exec_form()
            if form is None:
                raise DockerfileError(f"{where}: HEALTHCHECK CMD must use the exec (JSON) form")
            facts["healthcheck"], facts["healthcheck_options"] = form, options
        elif keyword == "VOLUME":
            form = instruction.exec_form()
            facts["volumes"] += form if form is not None else arguments.split()
        elif keyword == "EXPOSE":
            facts["expose"] += arguments.split()
        elif keyword == "STOPSIGNAL":
            facts["stopsignal"] = arguments.strip()
        elif keyword in ("LABEL", "ARG"):
            pass
        else:
            raise DockerfileError(f"{where}: {keyword} in the runtime stage is not supported by container-check")
    if not facts["entrypoint"] and not facts["cmd"]:
        raise DockerfileError("the runtime stage has neither ENTRYPOINT nor CMD")
    if not facts["healthcheck"]:
        raise DockerfileError("the runtime stage has no HEALTHCHECK")
    return facts


def read(path: str) -> dict:
    with open(path, encoding="utf-8") as file:
        stages = read_stages(file.read())
    builders = [stage for stage in stages if stage.name == "builder"]
    if len(builders) != 1:
        raise DockerfileError("container-check needs exactly one stage named `builder`")
    builder = builder_facts(builders[0])
    if stages[-1] is builders[0]:
        raise DockerfileError("the last stage (the image) must not be the builder")
    return {"builder": builder, "runtime": runtime_facts(stages[-1], builder)}


def seconds(duration: str, default: float) -> float:
    """Docker durations: 30s, 5m, 1m30s, 500ms."""
    if not duration:
        return default
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration):
        total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def bash_assignments(facts: dict) -> str:
    builder, runtime = facts["builder"], facts["runtime"]

    def scalar(name, value):
        return f"{name}={shlex.quote(str(value))}"

    def array(name, values):
        return f"{name}=(" + " ".join(shlex.quote(str(value)) for value in values) + ")"

    options = runtime["healthcheck_options"]
    lines = [
        scalar("BUILDER_BASE", builder["base"]),
        scalar("BUILDER_SUITE", builder["suite"]),
        scalar("BUILDER_SWIFT_VERSION", builder["swift_version"]),
        array("BUILDER_APT_PACKAGES", builder["apt_packages"]),
        array("BUILDER_SWIFT_BUILD", builder["swift_build"]),
        scalar("RUNTIME_BASE", runtime["base"]),
        scalar("RUNTIME_SUITE", runtime["suite"]),
        array("RUNTIME_APT_PACKAGES", runtime["apt_packages"]),
        array("RUNTIME_ENV", [f"{key}={value}" for key, value in runtime["env"].items()]),
        scalar("RUNTIME_USER", runtime["user"]),
        scalar("RUNTIME_WORKDIR", runtime["workdir"]),
        array("RUNTIME_ENTRYPOINT", runtime["entrypoint"]),
        array("RUNTIME_CMD", runtime["cmd"]),
        array("RUNTIME_HEALTHCHECK", runtime["healthcheck"]),
        scalar("RUNTIME_HEALTHCHECK_TIMEOUT", seconds(options.get("timeout", ""), 30)),
        scalar("RUNTIME_HEALTHCHECK_START_PERIOD", seconds(options.get("start-period", ""), 0)),
        scalar("RUNTIME_HEALTHCHECK_INTERVAL", seconds(options.get("interval", ""), 30)),
        array("RUNTIME_VOLUMES", runtime["volumes"]),
        array("RUNTIME_EXPOSE", runtime["expose"]),
        scalar("RUNTIME_STOPSIGNAL", runtime["stopsignal"]),
        array("RUNTIME_COPY_DESTINATIONS", [copy["destination"] for copy in runtime["copies"]]),
    ]
    return "\n".join(lines) + "\n"


def build_script(facts: dict) -> str:
    """The runtime stage's RUN steps as one sh script for the debootstrapped root, each with the
    ENV and WORKDIR in force at its line, as `docker build` runs them (`/bin/sh -c`)."""
    lines = ["#!/bin/sh", "# Generated by scripts/container/dockerfile.py from the Dockerfile's runtime stage.", "set -e"]
    for run in facts["runtime"]["runs"]:
        assignments = " ".join(shlex.quote(f"{key}={value}") for key, value in run["env"].items())
        lines.append(f"echo '--- RUN (Dockerfile line {run['line']})'")
        lines.append(f"mkdir -p {shlex.quote(run['workdir'])}")
        lines.append(f"(cd {shlex.quote(run['workdir'])} && env {assignments} /bin/sh -c {shlex.quote(run['script'])})")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("vars", "build-script", "json"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        facts = read(argv[2])
    except (DockerfileError, OSError) as error:
        print(f"error: {argv[2]}: {error}", file=sys.stderr)
        return 1
    if argv[1] == "vars":
        sys.stdout.write(bash_assignments(facts))
    elif argv[1] == "build-script":
        sys.stdout.write(build_script(facts))
    else:
        json.dump(facts, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
