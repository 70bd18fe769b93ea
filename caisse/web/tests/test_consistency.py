"""Codebase rules for the screens: files are loaded only through the access layer."""

from __future__ import annotations

import re
from pathlib import Path

import caisse

ROOT = Path(caisse.__file__).parent
SCREEN_MODULES = [
    "web/views.py", "accounts/views.py", "beneficiaries/views.py", "rights/views.py", "professionals/views.py",
]
# Work queues may count or list records (ALDPeriod.objects.filter(statut_protocole=…)); loading
# one person's file or one of its records by id must go through the file (get_beneficiary_for).
SENSITIVE = re.compile(r"\bBeneficiary\.objects\.|\b(ALDPeriod|CarteVitale|RightsPeriod|ResidenceControl|MaternityPeriod)"
                       r"\.objects\.get\(|get_object_or_404\((ALDPeriod|CarteVitale|RightsPeriod|ResidenceControl)")


def test_views_never_load_a_file_without_the_access_layer() -> None:
    offenders = [
        f"{module}:{number}: {line.strip()}"
        for module in SCREEN_MODULES
        for number, line in enumerate((ROOT / module).read_text().splitlines(), start=1)
        if SENSITIVE.search(line)
    ]
    assert offenders == [], "Chargez un dossier avec get_beneficiary_for :\n" + "\n".join(offenders)


def test_every_view_that_names_a_file_goes_through_get_beneficiary_for() -> None:
    for module in ["beneficiaries/views.py", "rights/views.py"]:
        source = (ROOT / module).read_text()
        for view in re.findall(r"def (\w+)\(request: HttpRequest, pk: int[^)]*\)", source):
            body = source.split(f"def {view}(", 1)[1].split("\ndef ", 1)[0]
            assert "get_beneficiary_for(" in body, f"{module}::{view} ne passe pas par get_beneficiary_for"
