"""``clikopro-trust-safety scan``, run as the installed script in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "clikopro-trust-safety"


def run_scan(stdin: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", "BROKER_URL": ""}
    return subprocess.run(
        [str(SCRIPT), "scan"], input=stdin, env=env, capture_output=True, encoding="utf-8", timeout=60
    )


def test_each_line_gets_one_json_line_with_its_masked_text_and_findings(tmp_path):
    messages = [
        "Appelez-moi au zéro six douze 34 56 78 ou paul arobase gmail point com",
        "Devis : 1 200 € TTC, passage le 06/12 à 14h30",
        "",
        "IBAN FR76 3000 6000 0112 3456 7890 189, ou en liquide, ou sur WhatsApp : www.renov.fr",
    ]
    done = run_scan("\n".join(messages) + "\n", tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == len(messages)

    first = lines[0]
    assert first["masked"] == "Appelez-moi au ••• ou •••"
    assert first["findings"] == [
        {"kind": "phone", "start": 15, "end": 38},
        {"kind": "email", "start": 42, "end": 70},
    ]
    assert messages[0][15:38] == "zéro six douze 34 56 78"
    assert lines[1] == {"masked": messages[1], "findings": []}
    assert lines[2] == {"masked": "", "findings": []}
    assert [f["kind"] for f in lines[3]["findings"]] == ["iban", "offplatform_payment", "social", "link"]
    for f in lines[3]["findings"]:
        assert messages[3][f["start"] : f["end"]] not in lines[3]["masked"]


def test_a_last_line_without_newline_and_windows_line_endings(tmp_path):
    done = run_scan("tel 06 12 34 56 78\r\nmerci", tmp_path)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["masked"] for line in done.stdout.splitlines()] == ["tel •••", "merci"]


def test_the_command_is_listed_in_the_help(tmp_path):
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert "scan" in done.stdout
