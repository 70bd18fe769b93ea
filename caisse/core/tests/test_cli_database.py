"""A bad ``CAISSE_DATABASE_URL`` ends every persistent command with a one-line French error on
stderr and a non-zero exit, never a traceback (contract, conventions). Runs the real command in a
subprocess: the settings read the variable when Django starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REFUSED = "postgres://caisse:secret@127.0.0.1:1/caisse"  # nothing listens on port 1


def _caisse(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(CAISSE_DATABASE_URL=url, PYTHONWARNINGS="ignore")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-m", "caisse.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    ("url", "command", "expected"),
    [
        ("foo://bar", ["traiter"], "schéma « foo:// » inconnu"),
        ("foo://bar", ["importer", "--referentiel", "ref"], "schéma « foo:// » inconnu"),
        ("postgres://caisse@hote:port/base", ["recevoir", "--feuilles", "f.ndjson"], "adresse mal formée"),
        (REFUSED, ["traiter", "--jusqu-au", "2025-12-31"], "Base de données inaccessible"),
        (REFUSED, ["exporter", "decomptes", "--out", "-"], "Base de données inaccessible"),
        (REFUSED, ["exporter", "paiements", "--out", "p.xml"], "Base de données inaccessible"),
        ("sqlite:////dossier/absent/caisse.sqlite3", ["recevoir", "--feuilles", "f.ndjson"], "inaccessible"),
    ],
    ids=["schema-traiter", "schema-importer", "malformed-recevoir", "refused-traiter", "refused-decomptes",
         "refused-paiements", "sqlite-recevoir"],
)
def test_bad_database_url_gives_one_french_line(tmp_path: Path, url: str, command: list[str], expected: str) -> None:
    result = _caisse(tmp_path, url, *command)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert expected in lines[0] and "CAISSE_DATABASE_URL" in lines[0]
    assert "secret" not in result.stderr  # the password is never echoed


def test_jeton_issues_a_token_once(tmp_path: Path) -> None:
    """``caisse jeton`` prints a new bearer token once (stdout: the token only) and stores its
    digest with its label (the API finds the account by that digest); an unknown account is a
    French error."""
    url = f"sqlite:///{tmp_path / 'caisse.sqlite3'}"
    unknown = _caisse(tmp_path, url, "jeton", "--utilisateur", "personne")  # also creates the schema
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip() == "Compte « personne » introuvable ou désactivé."
    created = _caisse(tmp_path, url, "gerer", "shell", "-c",
                      "from caisse.accounts.models import User, Role; "
                      "User.objects.create_user('pro', password='x', role=Role.PROFESSIONNEL)")
    assert created.returncode == 0, created.stderr
    issued = _caisse(tmp_path, url, "jeton", "--utilisateur", "pro", "--libelle", "Logiciel du cabinet")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert len(token) >= 32 and "\n" not in token and "ne sera plus affiché" in issued.stderr
    check = _caisse(tmp_path, url, "gerer", "shell", "-c",
                    "from caisse.accounts.models import ApiToken; "
                    f"t = ApiToken.objects.get(digest=ApiToken.hash('{token}')); print(t.label, t.user.username)")
    assert check.stdout.strip().splitlines()[-1] == "Logiciel du cabinet pro", check.stderr
