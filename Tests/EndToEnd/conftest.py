"""Fixtures for the end-to-end suite: real `entropyinfer serve` processes on free loopback ports.

How the suite finds its server:
- ENTROPYINFER_URL set: use that running server (the ServerTests target does this with the fake
  engine; set it by hand to debug against a server you started). Tests that need a server with
  other flags are skipped then.
- Otherwise: start ENTROPYINFER_BIN (default .build/release/entropyinfer) as
  `serve --port 0 --model $ENTROPYINFER_E2E_MODEL ...` and stop it with SIGTERM afterwards.

ENTROPYINFER_E2E_FAKE=1 says the server runs the fake engine: tests marked `real_model` are skipped.
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
API_KEY = os.environ.get("ENTROPYINFER_E2E_API_KEY", "sk-e2e-test")
MODEL = os.environ.get("ENTROPYINFER_E2E_MODEL", "smollm2-135m-instruct")
FAKE = os.environ.get("ENTROPYINFER_E2E_FAKE") == "1"
EXTERNAL_URL = os.environ.get("ENTROPYINFER_URL")


def pytest_configure(config):
    config.addinivalue_line("markers", "real_model: needs the real engine and model (skipped against the fake)")
    config.addinivalue_line("markers", "own_server: starts its own server process (skipped with ENTROPYINFER_URL)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if FAKE and "real_model" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs the real engine (ENTROPYINFER_E2E_FAKE=1)"))
        if EXTERNAL_URL and "own_server" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="starts its own server; ENTROPYINFER_URL points at an external one"))


def binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("ENTROPYINFER_BIN", REPO / ".build" / "release" / "entropyinfer"))
    if not path.exists():
        pytest.fail(f"{path} does not exist; build it with `swift build -c release --product entropyinfer`")
    return path


class ServerProcess:
    """`entropyinfer serve` on a free loopback port, ready once /health answers 200."""

    def __init__(self, *extra_args: str, api_key: str | None = API_KEY, env: dict | None = None):
        self.args = [str(binary()), "serve", "--host", "127.0.0.1", "--port", "0", "--model", MODEL, *extra_args]
        if api_key:
            self.args += ["--api-key", api_key]
        self.api_key = api_key
        # The suite's own ENTROPYINFER_* switches are not serve's configuration.
        inherited = {key: value for key, value in os.environ.items()
                     if not key.startswith("ENTROPYINFER_") or key == "ENTROPYINFER_HOME"}
        self.env = {**inherited, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log: list[str] = []

    def start(self, timeout: float = 300, blocked_signals: set[int] | None = None) -> "ServerProcess":
        # blocked_signals: start the server with these signals blocked in its inherited mask, as
        # some supervisors and CI runners do.
        preexec = (lambda: signal.pthread_sigmask(signal.SIG_BLOCK, blocked_signals)) if blocked_signals else None
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=self.env, preexec_fn=preexec)
        deadline = time.monotonic() + timeout
        while not self.url:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited ({self.process.wait()}) before listening:\n" + "".join(self.log))
            self.log.append(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.url = match.group(1)
        # Keep draining the log so the pipe never fills.
        import threading
        threading.Thread(target=self._drain, daemon=True).start()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n" + "".join(self.log))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise RuntimeError("server not healthy in time:\n" + "".join(self.log))

    def _drain(self):
        for line in self.process.stdout:
            self.log.append(line)

    def stop(self, timeout: float = 60) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class ExternalServer:
    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.api_key = API_KEY
        self.log: list[str] = []


@pytest.fixture(scope="session")
def server():
    if EXTERNAL_URL:
        yield ExternalServer(EXTERNAL_URL)
        return
    process = ServerProcess("--max-queue", "16").start()
    yield process
    code = process.stop()
    assert code == 0, "serve must exit 0 on SIGTERM:\n" + "".join(process.log[-50:])


@pytest.fixture
def http(server):
    """Raw HTTP helper: returns (status, headers, parsed JSON or text)."""

    def request(method: str, path: str, body=None, headers=None, auth=True, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        all_headers = {"Content-Type": "application/json"}
        if auth and server.api_key:
            all_headers["Authorization"] = f"Bearer {server.api_key}"
        all_headers.update(headers or {})
        req = urllib.request.Request(server.url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=600) as response:
                status, response_headers, payload = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, response_headers, payload = error.code, dict(error.headers), error.read()
        text = payload.decode()
        try:
            return status, response_headers, json.loads(text)
        except json.JSONDecodeError:
            return status, response_headers, text

    return request


@pytest.fixture
def client(server):
    import openai

    return openai.OpenAI(base_url=server.url + "/v1", api_key=server.api_key or "none", max_retries=0, timeout=600)


@pytest.fixture
def model_name(http):
    status, _, body = http("GET", "/v1/models")
    assert status == 200, body
    return body["data"][0]["id"]
