#!/usr/bin/env python3
"""Measures the memory of a real `entropyinfer serve`, for resource requests and config presets.

    scripts/measure-serve-memory.py [--binary PATH] [--prompt-words N] [--max-tokens N]
                                    [--requests N] [--idle-connections N] -- SERVE_FLAGS...

Starts `serve --host 127.0.0.1 --port 0 SERVE_FLAGS` under `/usr/bin/time -v`, waits for
/health, opens --idle-connections keep-alive connections that send nothing, sends --requests
chat completions one after the other (a user message of --prompt-words words, --max-tokens
generated at temperature 0), reads the server's VmRSS/VmHWM/Threads from /proc, stops it with
SIGTERM and prints one JSON line: RSS after the requests, peak RSS (/proc VmHWM and time -v's
"Maximum resident set size"), load time, prompt tokens, time to the answer, exit status.
Numbers on a shared machine are noisy for time, much less for memory.
"""
import argparse
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]


def proc_status(pid: int) -> dict:
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                values[key] = int(value.split()[0])
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO / ".build/release/entropyinfer"))
    parser.add_argument("--prompt-words", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1)
    parser.add_argument("--idle-connections", type=int, default=0)
    parser.add_argument("serve_flags", nargs="*")
    options = parser.parse_args()

    command = ["/usr/bin/time", "-v", options.binary, "serve", "--host", "127.0.0.1", "--port", "0", *options.serve_flags]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ENTROPYINFER_") or key == "ENTROPYINFER_HOME"}
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    stderr_lines: list[str] = []
    threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True).start()
    url = ""
    for line in process.stdout:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            url = match.group(1)
            break
    if not url:
        process.wait()
        raise SystemExit("serve exited before listening:\n" + "".join(stderr_lines))
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    server_pid = int(subprocess.check_output(["pgrep", "-P", str(process.pid)]).split()[0])
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if process.poll() is not None:
            raise SystemExit("serve exited while loading:\n" + "".join(stderr_lines))
        time.sleep(0.05)
    load_seconds = time.monotonic() - started
    after_load = proc_status(server_pid)

    host, port = url.removeprefix("http://").rsplit(":", 1)
    idle = []
    for _ in range(options.idle_connections):
        connection = socket.create_connection((host, int(port)))
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.recv(4096)
        idle.append(connection)

    prompt = " ".join(["memory"] * options.prompt_words)
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": options.max_tokens, "temperature": 0}).encode()
    usage = {}
    request_seconds = []
    for _ in range(options.requests):
        request = urllib.request.Request(url + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
        begin = time.monotonic()
        with urllib.request.urlopen(request, timeout=3600) as response:
            usage = json.load(response)["usage"]
        request_seconds.append(round(time.monotonic() - begin, 3))
    after_requests = proc_status(server_pid)
    for connection in idle:
        connection.close()

    os.kill(server_pid, signal.SIGTERM)
    status = process.wait(timeout=120)
    text = "".join(stderr_lines)
    maximum = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    print(json.dumps({
        "serve_flags": options.serve_flags,
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "idle_connections": options.idle_connections,
        "load_seconds": round(load_seconds, 2),
        "request_seconds": request_seconds,
        "rss_after_load_mib": round(after_load["VmRSS"] / 1024, 1),
        "rss_after_requests_mib": round(after_requests["VmRSS"] / 1024, 1),
        "peak_rss_mib": round(after_requests["VmHWM"] / 1024, 1),
        "time_v_max_rss_mib": round(int(maximum.group(1)) / 1024, 1) if maximum else None,
        "threads": after_requests["Threads"],
        "exit_status": status,
    }))
    return 0 if status == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
