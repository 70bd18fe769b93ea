"""The référentiel of the contract (§1) goes into the database and comes back out unchanged."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from caisse.batch_io import UnreadableFile
from caisse.beneficiaries.exchange import beneficiary_record, import_referentiel
from caisse.beneficiaries.models import Beneficiary
from caisse.core.models import AuditEvent
from caisse.professionals.models import HealthProfessional

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "examples" / "liquider" / "referentiel"
TODAY = dt.date(2026, 11, 22)


def _example() -> Path:
    if not EXAMPLE.exists():
        pytest.skip("Exemples du contrat absents (../shared/spec/examples).")
    return EXAMPLE


def test_import_then_export_gives_back_the_contract_records() -> None:
    folder = _example()
    report = import_referentiel(folder, today=TODAY, quiet=True)
    records = [json.loads(line) for line in (folder / "beneficiaires.ndjson").read_text().splitlines() if line]
    assert report.errors == []
    assert report.created == len(records) == Beneficiary.objects.count()
    assert HealthProfessional.objects.count() == len((folder / "professionnels.ndjson").read_text().splitlines())
    for record in records:
        exported = beneficiary_record(Beneficiary.objects.get(nir=record["nir"]))
        for key in ("date_naissance", "sexe", "droits", "ald", "ame", "maternite", "invalidite",
                    "medecin_traitant", "cartes_vitale", "deces", "iban"):
            assert exported[key] == record.get(key, exported[key]), (record["nir"], key)
        assert [(c["debut"], c["fin"], c["participation"]) for c in exported["c2s"]] == [
            (c["debut"], c["fin"], c["participation"]) for c in record["c2s"]]


def test_importing_twice_changes_nothing() -> None:
    folder = _example()
    import_referentiel(folder, today=TODAY, quiet=True)
    events = AuditEvent.objects.count()
    report = import_referentiel(folder, today=TODAY, quiet=True)
    assert report.created == report.updated == 0
    assert report.unchanged == Beneficiary.objects.count()
    assert AuditEvent.objects.count() == events


def test_a_changed_record_is_updated_and_audited(tmp_path: Path) -> None:
    folder = tmp_path / "ref"
    shutil.copytree(_example(), folder)
    import_referentiel(folder, today=TODAY, quiet=True)
    lines = (folder / "beneficiaires.ndjson").read_text().splitlines()
    first = json.loads(lines[0])
    first["deces"] = "2026-01-05"
    lines[0] = json.dumps(first)
    (folder / "beneficiaires.ndjson").write_text("\n".join(lines) + "\n")
    report = import_referentiel(folder, today=TODAY, quiet=True)
    assert report.updated == 1
    person = Beneficiary.objects.get(nir=first["nir"])
    assert person.date_deces == dt.date(2026, 1, 5)
    assert person.audit_events.filter(summary__contains="Mise à jour par import").exists()


def test_bad_records_are_reported_in_french_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "beneficiaires.ndjson").write_text(
        '{"nir": "187057503537479", "date_naissance": "1987-05-22", "sexe": "M"}\n'
        "pas du json\n"
        '{"nir": "187057503537478", "date_naissance": "1987-05-22", "sexe": "M", '
        '"droits": [{"debut": "2020-01-01", "fin": "2019-01-01"}]}\n'
    )
    report = import_referentiel(tmp_path, today=TODAY, quiet=True)
    assert any("clé du NIR" in e for e in report.errors)
    assert any("illisible" in e for e in report.errors)
    assert any("précède le début" in e for e in report.errors)
    assert Beneficiary.objects.count() == 1


def test_overlapping_periods_are_read_as_liquider_reads_them(tmp_path: Path) -> None:
    (tmp_path / "beneficiaires.ndjson").write_text(
        '{"nir": "187057503537478", "date_naissance": "1987-05-22", "sexe": "M", '
        '"droits": [{"debut": "2020-01-01", "fin": "2022-12-31"}, {"debut": "2021-01-01", "fin": null}], '
        '"c2s": [{"debut": "2024-01-01", "fin": null, "participation": false}]}\n'
    )
    report = import_referentiel(tmp_path, today=TODAY, quiet=True)
    assert report.errors == []
    exported = beneficiary_record(Beneficiary.objects.get())
    assert exported["droits"] == [{"debut": "2020-01-01", "fin": None}]
    assert exported["c2s"] == [{"debut": "2024-01-01", "fin": None, "participation": False}]


def test_a_pregnancy_going_on_is_imported_with_its_presumed_term(tmp_path: Path) -> None:
    """A null ``date_accouchement`` is a pregnancy not yet ended: the file keeps the presumed term
    (6th month + 4 months, a parameter), the date caisse liquider ends the exoneration at."""
    (tmp_path / "beneficiaires.ndjson").write_text(
        '{"nir": "290017512345704", "date_naissance": "1990-01-01", "sexe": "F", '
        '"droits": [{"debut": "2020-01-01", "fin": null}], '
        '"maternite": [{"debut_6e_mois": "2025-03-01", "date_accouchement": null}]}\n'
    )
    report = import_referentiel(tmp_path, today=TODAY, quiet=True)
    assert report.errors == []
    person = Beneficiary.objects.get()
    from caisse.rights.models import MaternityPeriod

    period = MaternityPeriod.objects.get(beneficiary=person)
    assert period.date_accouchement is None and period.date_accouchement_prevue == dt.date(2025, 7, 1)
    assert beneficiary_record(person)["maternite"] == [{"debut_6e_mois": "2025-03-01", "date_accouchement": "2025-07-01"}]


def test_an_unknown_medecin_traitant_or_a_card_without_number_leaves_the_rights_imported(tmp_path: Path) -> None:
    """caisse liquider ignores them: the person keeps the rights, only that item is left out."""
    (tmp_path / "beneficiaires.ndjson").write_text(
        '{"nir": "187057503537478", "date_naissance": "1987-05-22", "sexe": "M", '
        '"droits": [{"debut": "2020-01-01", "fin": null}], '
        '"medecin_traitant": [{"ps": "19999999999", "debut": "2021-01-01", "fin": null}], '
        '"cartes_vitale": [{"numero": null, "opposition": null}, {"numero": "CV1", "opposition": null}]}\n'
    )
    report = import_referentiel(tmp_path, today=TODAY, quiet=True)
    assert any("« 19999999999 » inconnu, déclaration non importée" in e for e in report.errors)
    assert any("numéro manquant, carte non importée" in e for e in report.errors)
    exported = beneficiary_record(Beneficiary.objects.get())
    assert exported["droits"] == [{"debut": "2020-01-01", "fin": None}]
    assert exported["medecin_traitant"] == [] and [c["numero"] for c in exported["cartes_vitale"]] == ["CV1"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="n'est pas un dossier"):
        import_referentiel(tmp_path / "absent")


def test_professionals_fields_are_read_as_liquider_reads_them(tmp_path: Path) -> None:
    """A structure is named by its raison sociale; ``secteur`` may be given as text; only an
    explicit ``false`` makes a professional non-conventionné (``referentiel.secteur_of`` and
    ``conventionne_of``, shared with ``caisse liquider``)."""
    (tmp_path / "beneficiaires.ndjson").write_text("")
    rows = [
        {"id": "750000001", "profession": "laboratoire", "raison_sociale": "Laboratoire Pasteur Nord"},
        {"id": "10000000001", "profession": "medecin", "specialite": "medecine_generale", "secteur": "3",
         "conventionne": False},
        {"id": "10000000002", "profession": "medecin", "secteur": "deux", "conventionne": None},
    ]
    (tmp_path / "professionnels.ndjson").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = import_referentiel(tmp_path, today=TODAY, quiet=True)
    assert report.errors == []
    lab, s3, unknown = (HealthProfessional.objects.get(identifiant=r["id"]) for r in rows)
    assert lab.nom == "Laboratoire Pasteur Nord"
    assert (s3.secteur, s3.conventionne) == (3, False)
    assert (unknown.secteur, unknown.conventionne) == (1, True)
