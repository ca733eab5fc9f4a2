"""The container-check scripts: shellcheck-clean (every suppression carries its reason)."""
import re

from conftest import REPO, run, tool

SCRIPTS = [REPO / "scripts" / "container-check.sh", *sorted((REPO / "scripts" / "container").glob("*.sh"))]


def test_shellcheck_reports_nothing():
    result = run(tool("shellcheck"), "--severity=style", *map(str, SCRIPTS))
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_every_shellcheck_suppression_says_why():
    for script in SCRIPTS:
        for line in script.read_text().splitlines():
            if "shellcheck disable=" in line:
                assert re.search(r"disable=SC\d+\s+#\s*\S", line), f"{script.name}: unexplained suppression: {line.strip()}"
