"""Schemathesis against the live server with openapi.yaml: bounded cases, no 500, every response
matching the spec (status code, content type, headers, body schema), invalid inputs rejected with
4xx, wrong methods answered 405 with Allow, missing keys answered 401."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.request

import pytest

from conftest import FAKE, ServerProcess

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("ENTROPYINFER_SCHEMATHESIS_EXAMPLES", "40" if FAKE else "15")
CHECKS = ",".join([
    "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "negative_data_rejection", "unsupported_method", "allow_header_conformance",
    "ignored_auth",
])


def served_names(url: str, api_key: str) -> str:
    request = urllib.request.Request(url + "/v1/models", headers={"Authorization": f"Bearer {api_key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return ",".join(entry["id"] for entry in json.load(response)["data"])


# One worker: with two, Hypothesis describes its lambdas with ast.parse from two threads at once.
# CPython 3.11 counts the AST constructor's recursion depth in interpreter-wide state, and a
# threaded run can trip its check (CPython gh-106905: "SystemError: AST constructor recursion
# depth mismatch", seen here once on 3.11.7 in a `make test` that passed when re-run). One worker
# costs about 15 s of the suite.
def run_schemathesis(url: str, api_key: str, tmp_path: pathlib.Path):
    executable = pathlib.Path(sys.executable).parent / "st"
    command = [str(executable) if executable.exists() else shutil.which("st") or "st", "run", str(REPO / "openapi.yaml"),
               "--url", url, "-H", f"Authorization: Bearer {api_key}", "--checks", CHECKS,
               "--max-examples", EXAMPLES, "--seed", "1", "--workers", "1", "--request-timeout", "300",
               "--generation-database", "none", "--report", "junit", "--report-dir", str(tmp_path), "--no-color"]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
                   "ENTROPYINFER_SCHEMATHESIS_MODELS": served_names(url, api_key),
                   "PYTHONPATH": str(pathlib.Path(__file__).parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=3600, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    return output


def test_schemathesis_against_the_served_api(server, tmp_path):
    if not FAKE and not os.environ.get("ENTROPYINFER_URL"):
        # Bound generation time on the real engine: a small context caps every answer.
        own = ServerProcess("--context-length", "96", "--max-queue", "4").start()
        try:
            output = run_schemathesis(own.url, own.api_key, tmp_path)
        finally:
            assert own.stop() == 0
    else:
        output = run_schemathesis(server.url, server.api_key, tmp_path)
    (tmp_path / "schemathesis.txt").write_text(output)
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and int(counts.group(1)) > 0 and counts.group(1) == counts.group(2), output[-5000:]
