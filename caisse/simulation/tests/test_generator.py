"""The simulated caisse: determinism, identifiers, dates and contract fields."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest

from caisse.rules.identifiers import (
    check_finess,
    check_iban,
    check_nir,
    check_rpps,
    check_siret,
    nir_matches_identity,
)
from caisse.simulation.generator import run
from caisse.simulation.tests.conftest import read_ndjson

PROFESSIONS = {
    "medecin", "chirurgien_dentiste", "sage_femme", "infirmier", "masseur_kinesitherapeute",
    "orthophoniste", "orthoptiste", "pedicure_podologue", "pharmacien", "laboratoire",
    "transporteur", "etablissement", "fournisseur_lpp",
}  # fmt: skip
BENEFICIAIRE_FIELDS = {
    "nir", "date_naissance", "sexe", "droits", "ald", "c2s", "ame", "maternite", "invalidite",
    "medecin_traitant", "cartes_vitale", "deces",
}  # fmt: skip
FEUILLE_FIELDS = {
    "id", "type", "date_reception", "nir", "executant", "prescripteur", "tiers_payant", "risque",
    "parcours", "en_rapport_ald", "carte_vitale", "lignes",
}  # fmt: skip
LIGNE_FIELDS = {"code", "date_soins", "quantite", "coefficient", "montant_facture_cts"}
ARRET_FIELDS = {
    "id", "nir", "risque", "date_debut", "date_fin", "salaires", "heures_travaillees_3_mois", "ald",
    "prolongation", "date_accouchement", "enfants_a_charge", "naissance_multiple",
}  # fmt: skip
C2S_FIELDS = {"id", "date_demande", "zone", "membres", "ressources", "logement", "rsa"}


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def d(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def test_same_seed_same_bytes_other_seed_other_caisse(small: Path, tmp_path: Path) -> None:
    run(200, 2025, 1, tmp_path / "again", "ndjson")
    assert digest(tmp_path / "again") == digest(small)
    run(200, 2025, 2, tmp_path / "other", "ndjson")
    other = digest(tmp_path / "other")
    assert other["feuilles.ndjson"] != digest(small)["feuilles.ndjson"]
    assert other["referentiel/beneficiaires.ndjson"] != digest(small)["referentiel/beneficiaires.ndjson"]


def test_parquet_is_deterministic_and_holds_the_same_feuilles(
    small: Path, small_parquet: Path, tmp_path: Path
) -> None:
    run(200, 2025, 1, tmp_path / "again", "parquet")
    assert digest(tmp_path / "again") == digest(small_parquet)
    nd = read_ndjson(small / "feuilles.ndjson")
    f = pl.read_parquet(small_parquet / "feuilles.parquet")
    lines = pl.read_parquet(small_parquet / "lignes.parquet")
    assert f["id"].to_list() == [r["id"] for r in nd]
    assert FEUILLE_FIELDS - {"lignes"} <= set(f.columns)
    assert {"feuille_id"} | LIGNE_FIELDS <= set(lines.columns)
    assert lines.height == sum(len(r["lignes"]) for r in nd)
    # the référentiel is NDJSON in both modes (what caisse liquider reads), and Parquet too
    assert (small_parquet / "referentiel" / "beneficiaires.ndjson").read_bytes() == (
        small / "referentiel" / "beneficiaires.ndjson"
    ).read_bytes()
    assert pl.read_parquet(small_parquet / "referentiel" / "beneficiaires.parquet").height == 200


def test_every_identifier_is_valid(medium: Path) -> None:
    benef = read_ndjson(medium / "referentiel" / "beneficiaires.ndjson")
    nirs = [b["nir"] for b in benef]
    assert len(set(nirs)) == len(nirs) == 2_000
    for b in benef:
        check_nir(b["nir"])
        assert nir_matches_identity(b["nir"], d(b["date_naissance"]), b["sexe"])
        assert int(b["nir"][3:5]) == d(b["date_naissance"]).month
        if b["iban"]:
            check_iban(b["iban"])
    assert any(n[5:7] == "99" for n in nirs)  # born abroad
    for p in read_ndjson(medium / "referentiel" / "professionnels.ndjson"):
        (check_finess if len(p["id"]) == 9 else check_rpps)(p["id"])
        check_iban(p["iban"])
    for e in read_ndjson(medium / "referentiel" / "employeurs.ndjson"):
        check_siret(e["siret"])


def test_corsica_numbers_have_the_right_key(tmp_path: Path) -> None:
    run(20_000, 2024, 5, tmp_path, "ndjson")
    corsica = [
        b["nir"]
        for b in read_ndjson(tmp_path / "referentiel" / "beneficiaires.ndjson")
        if b["nir"][5:7] in ("2A", "2B")
    ]
    assert corsica
    for nir in corsica:
        check_nir(nir)


def test_dates_are_consistent(medium: Path) -> None:
    for b in read_ndjson(medium / "referentiel" / "beneficiaires.ndjson"):
        born = d(b["date_naissance"])
        assert b["deces"] is None or d(b["deces"]) >= born
        for period in b["droits"] + b["ald"] + b["invalidite"]:
            assert d(period["debut"]) >= born
            assert period["fin"] is None or d(period["fin"]) >= d(period["debut"])
        for period in b["c2s"] + b["ame"]:
            assert d(period["fin"]) > d(period["debut"])
        for m in b["maternite"]:
            assert d(m["debut_6e_mois"]) < d(m["date_accouchement"])
        for mt in b["medecin_traitant"]:
            assert mt["fin"] is None or d(mt["fin"]) >= d(mt["debut"])
        for parent in b["parents"]:
            assert isinstance(parent, str) and len(parent) == 15
    anomalies = {r["id"] for r in read_ndjson(medium / "anomalies.ndjson")}
    for f in read_ndjson(medium / "feuilles.ndjson"):
        if f["id"] in anomalies:
            continue
        for line in f["lignes"]:
            assert d(line["date_soins"]) <= d(f["date_reception"])
            assert d(line["date_soins"]).year == 2025
    for a in read_ndjson(medium / "arrets.ndjson"):
        assert d(a["date_fin"]) >= d(a["date_debut"])
        months = [s["mois"] for s in a["salaires"]]
        assert len(months) == 13 and months[-1] == a["date_debut"][:7] and months[0] < months[-1]


def test_contract_fields_are_present(small: Path) -> None:
    benef = read_ndjson(small / "referentiel" / "beneficiaires.ndjson")
    assert all(set(b) >= BENEFICIAIRE_FIELDS for b in benef)
    pros = read_ndjson(small / "referentiel" / "professionnels.ndjson")
    assert {p["profession"] for p in pros} == PROFESSIONS
    assert all({"id", "profession", "specialite", "secteur", "optam", "conventionne"} <= set(p) for p in pros)
    feuilles = read_ndjson(small / "feuilles.ndjson")
    assert feuilles and all(set(f) >= FEUILLE_FIELDS for f in feuilles)
    assert all(set(line) >= LIGNE_FIELDS for f in feuilles for line in f["lignes"])
    assert {f["type"] for f in feuilles} <= {"FSE", "FSP"}
    arrets = read_ndjson(small / "arrets.ndjson")
    assert arrets and all(set(a) >= ARRET_FIELDS for a in arrets)
    demandes = read_ndjson(small / "demandes_c2s.ndjson")
    assert all(set(c) >= C2S_FIELDS for c in demandes)
    for name in ("contacts.ndjson", "declarations_atmp.ndjson", "anomalies.ndjson", "simulation.json"):
        assert (small / name).exists()


@pytest.mark.parametrize("bad", [0, -1])
def test_cli_refuses_a_non_positive_population(bad: int, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from caisse.cli import app

    result = CliRunner().invoke(
        app,
        ["simuler", "--beneficiaires", str(bad), "--annee", "2025", "--graine", "1", "--out", str(tmp_path)],
    )
    assert result.exit_code != 0


def test_several_blocks_are_deterministic_and_numbered_globally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from caisse.simulation import generator

    monkeypatch.setattr(generator, "BLOCK", 100)
    run(250, 2025, 4, tmp_path / "a", "ndjson")
    run(250, 2025, 4, tmp_path / "b", "ndjson")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    benef = read_ndjson(tmp_path / "a" / "referentiel" / "beneficiaires.ndjson")
    assert len({b["nir"] for b in benef}) == 250
    assert len({b["foyer"] for b in benef}) > 100
    ids = [f["id"] for f in read_ndjson(tmp_path / "a" / "feuilles.ndjson")]
    numbers = sorted({int(i[1:]) for i in ids})
    assert numbers == list(range(len(numbers)))


@pytest.mark.parametrize(("n", "graine"), [(1, 1), (2, 1), (3, 1), (10, 1), (10, 2)])
def test_tiny_populations_are_simulated(n: int, graine: int, tmp_path: Path) -> None:
    """A block without any AT/MP declaration (or arrêt) to link to used to crash (out of bounds)."""
    run(n, 2024, graine, tmp_path / "nd", "ndjson")
    run(n, 2024, graine, tmp_path / "pq", "parquet")
    benef = read_ndjson(tmp_path / "nd" / "referentiel" / "beneficiaires.ndjson")
    assert len(benef) == n
    arrets = read_ndjson(tmp_path / "nd" / "arrets.ndjson")
    assert all(a["declaration_atmp"] is None or a["risque"] == "atmp" for a in arrets)


def test_referentiel_nomenclature_keeps_to_the_contract_categories(small: Path) -> None:
    from caisse.simulation.nomenclature import CONTRACT_CATEGORIES

    rows = read_ndjson(small / "referentiel" / "nomenclature.ndjson")
    assert rows and {r["categorie"] for r in rows} <= CONTRACT_CATEGORIES
    codes = {r["code"] for r in rows}
    feuilles = read_ndjson(small / "feuilles.ndjson")
    assert {line["code"] for f in feuilles for line in f["lignes"]} - {"ZZINCONNU"} <= codes


def test_droits_fermes_never_planted_on_the_dead(tmp_path: Path) -> None:
    """Care after the rights closed of a person also dead then is a DECES, not DROITS_FERMES
    (seed 3, 3 000 people, 2020: a person who died in March and left in December)."""
    run(3_000, 2020, 3, tmp_path, "ndjson")
    dead = {b["nir"] for b in read_ndjson(tmp_path / "referentiel" / "beneficiaires.ndjson") if b["deces"]}
    planted = {r["id"] for r in read_ndjson(tmp_path / "anomalies.ndjson") if r["anomalie"] == "DROITS_FERMES"}
    assert planted
    assert not [f["id"] for f in read_ndjson(tmp_path / "feuilles.ndjson") if f["id"] in planted and f["nir"] in dead]


def test_no_c2s_request_before_the_c2s_existed(tmp_path: Path) -> None:
    run(3_000, 2019, 2, tmp_path, "ndjson")
    dates = [r["date_demande"] for r in read_ndjson(tmp_path / "demandes_c2s.ndjson")]
    assert dates and min(dates) >= "2019-11-01"


@pytest.mark.parametrize("annee", ["0", "-1", "2015", "2101", "99999"])
def test_cli_refuses_a_year_out_of_range_in_one_french_line(annee: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "from caisse.cli import main; main()", "simuler", "--beneficiaires", "5",
         "--annee", annee, "--graine", "1", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().startswith("L'année simulée doit être comprise entre")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
