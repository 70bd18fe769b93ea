"""An output the command cannot write ends it with one French line on stderr and a non-zero exit,
never a traceback (contract, conventions). Runs the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "examples" / "liquider"


def _liquider(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    command = [sys.executable, "-m", "caisse.cli", "liquider", "--referentiel", str(EXAMPLE / "referentiel"),
               "--feuilles", str(EXAMPLE / "feuilles.ndjson"), *args]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    ("out", "fmt", "expected"),
    [
        ("/proc/caisse-sortie.ndjson", "ndjson", "introuvable"),
        (".", "ndjson", "c'est un dossier"),
        ("/proc/caisse-sortie", "parquet", "introuvable"),
        ("-", "parquet", "s'écrit en NDJSON"),
    ],
    ids=["ndjson-no-folder", "ndjson-a-folder", "parquet-no-folder", "parquet-stdout"],
)
def test_an_output_that_cannot_be_written_gives_one_french_line(tmp_path: Path, out: str, fmt: str, expected: str) -> None:
    result = _liquider(tmp_path, "--out", out, "--format", fmt)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "-").exists()


def test_ij_output_to_a_folder_gives_one_french_line(tmp_path: Path) -> None:
    """Polars' writer raises ``IsADirectoryError`` without an errno and with an English text: the
    message is still the French one."""
    (tmp_path / "dossier").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    arrets = EXAMPLE.parent / "ij_arrets.ndjson"
    command = [sys.executable, "-m", "caisse.cli", "ij", "--arrets", str(arrets), "--out", "dossier"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "c'est un dossier" in lines[0] and "expected" not in lines[0], result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["simuler", "--annee", "abc", "--out", "x"], "Valeur invalide pour --annee (voir « caisse simuler --help »)."),
        (["simuler", "--out", "x"], "Paramètre obligatoire manquant : --beneficiaires"),
        (["liquider", "--bogus", "1"], "Option inconnue : --bogus"),
        (["pas-une-commande"], "Commande inconnue 'pas-une-commande'"),
        (["liquider", "--referentiel", "r", "--feuilles", "f", "--out", "o", "--format", "xml"],
         "Valeur invalide pour --format"),
    ],
    ids=["valeur", "manquant", "option", "commande", "choix"],
)
def test_a_refused_command_line_gives_one_french_line(tmp_path: Path, args: list[str], expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    result = subprocess.run([sys.executable, "-m", "caisse.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
