"""Codebase-wide rules that no linter checks for us."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import CheckConstraint, UniqueConstraint

from caisse.core.constraints import NonOverlappingPeriods

ROOT = Path(__file__).resolve().parents[2]
SENSITIVE = ("Beneficiary", "ALDPeriod", "C2SRequest", "C2SAttribution", "AMEAttribution", "CarteVitale",
             "MaternityPeriod", "InvalidityPeriod", "AuditEvent")


def _view_files() -> list[Path]:
    return [p for p in ROOT.rglob("views*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("path", _view_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_views_never_load_a_persons_file_directly(path: Path) -> None:
    """Files are loaded through beneficiaries.access (role check + read trace), never by the ORM."""
    source = path.read_text(encoding="utf-8")
    single_file = re.compile(rf"\b({'|'.join(SENSITIVE)})\.objects\.get\(|\bBeneficiary\.objects\.")
    assert not single_file.search(source), f"{path.name} charge un dossier sans passer par les fonctions d'accès"


def test_the_pure_core_does_not_import_django() -> None:
    for path in (ROOT / "rules").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith("django") for n in names), f"{path} importe Django"


def test_every_model_has_a_french_verbose_name_and_every_constraint_a_message() -> None:
    for model in apps.get_models():
        if not model.__module__.startswith("caisse."):
            continue
        assert "verbose_name" in model._meta.original_attrs, f"{model.__name__} sans verbose_name (français)"
        for constraint in model._meta.constraints:
            assert isinstance(constraint, CheckConstraint | UniqueConstraint | NonOverlappingPeriods)
            assert constraint.violation_error_message, f"{constraint.name} sans message d'erreur"
            assert constraint.name.split("_")[0] in {"check", "unique", "exclude"}, constraint.name
