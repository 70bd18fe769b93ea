"""Legal scenarios written in YAML (``caisse/rules/claims/scenarios/*.yaml``), run under pytest.

A scenario file holds ``cas``: each case has a ``titre``, the ``article`` it illustrates, the
``beneficiaires`` / ``professionnels`` / ``compteurs`` it needs (defaults filled in below), its own
``nomenclature`` codes if any (added to the shipped ones, as a référentiel's file), the
``feuilles`` and the ``attendu`` décomptes, in the same order as the feuilles. Only the fields
written in ``attendu`` are compared, so each case states exactly what the rule decides.

Shorthands: a 13-digit ``nir`` gets its control key appended; a line without
``montant_facture_cts`` is billed at the tariff; a feuille without ``date_reception`` is
received on the day of its latest care.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from caisse.rules.claims import engine, frames
from caisse.rules.claims.engine import liquidate_records
from caisse.rules.claims.nomenclature import load_nomenclature, merge_nomenclatures
from caisse.rules.claims.referentiel import Referentiel

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
NOMENCLATURE = load_nomenclature()

PROFESSIONNELS = [
    {"id": "MG1", "profession": "medecin", "specialite": "medecine_generale", "secteur": 1},
    {"id": "MG2", "profession": "medecin", "specialite": "medecine_generale", "secteur": 1},
    {"id": "CHIR1", "profession": "medecin", "specialite": "chirurgie", "secteur": 1},
    {"id": "KINE1", "profession": "masseur_kinesitherapeute", "secteur": 1},
    {"id": "INF1", "profession": "infirmier", "secteur": 1},
    {"id": "PHARMA1", "profession": "pharmacien", "secteur": 1},
    {"id": "LABO1", "profession": "laboratoire", "secteur": 1},
    {"id": "TAXI1", "profession": "transporteur", "secteur": 1},
    {"id": "DENT1", "profession": "chirurgien_dentiste", "secteur": 1},
    {"id": "SF1", "profession": "sage_femme", "secteur": 1},
    {"id": "OPT1", "profession": "fournisseur_lpp", "secteur": 1},
    {"id": "HOP1", "profession": "etablissement", "secteur": 1},
]


def with_key(nir: str) -> str:
    if len(nir) != 13:
        return nir
    number = int(nir.replace("2A", "19").replace("2B", "18"))
    return f"{nir}{97 - number % 97:02d}"


def _tariff(code: str, when: str) -> int | None:
    day = dt.date.fromisoformat(when)
    for row in NOMENCLATURE.filter(NOMENCLATURE["code"] == code).iter_rows(named=True):
        if row["debut"] <= day <= row["fin"]:
            return int(row["tarif_cts"])
    return None


def _beneficiaire(b: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "date_naissance": "1980-01-01",
        "sexe": "M",
        "droits": [{"debut": "2015-01-01", "fin": None}],
        "ald": [],
        "c2s": [],
        "ame": [],
        "maternite": [],
        "invalidite": [],
        "medecin_traitant": [],
        "cartes_vitale": [],
        "deces": None,
    }
    out.update(b)
    out["nir"] = with_key(str(out["nir"]))
    return out


def _feuille(f: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "FSE",
        "prescripteur": None,
        "tiers_payant": False,
        "risque": "maladie",
        "parcours": "medecin_traitant",
        "en_rapport_ald": False,
        "carte_vitale": None,
    }
    out.update(f)
    if isinstance(out.get("nir"), str):
        out["nir"] = with_key(out["nir"])
    lignes = []
    for line in out.get("lignes") or []:
        if not isinstance(line, dict):
            lignes.append(line)
            continue
        ln = {"quantite": 1, "coefficient": 1, **line}
        if "montant_facture_cts" not in ln:
            tarif = _tariff(str(ln.get("code")), str(ln.get("date_soins")))
            ln["montant_facture_cts"] = round((tarif or 0) * ln["quantite"] * ln["coefficient"])
        lignes.append(ln)
    out["lignes"] = lignes
    if "date_reception" not in out:
        dates = [str(x["date_soins"]) for x in lignes if isinstance(x, dict) and x.get("date_soins")]
        out["date_reception"] = max(dates) if dates else None
    return out


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cas"]:
            cases.append((f"{path.stem}: {case['titre']}", case))
    return cases


def _match(expected: Any, got: Any, where: str) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{where}: attendu un objet, obtenu {got!r}"]
        out = []
        for k, v in expected.items():
            if k == "explication_contient":
                for fragment in v:
                    if fragment not in str(got.get("explication")):
                        out.append(f"{where}.explication ne contient pas {fragment!r}")
                continue
            if k == "explication_exclut":
                for fragment in v:
                    if fragment in str(got.get("explication")):
                        out.append(f"{where}.explication contient {fragment!r}")
                continue
            out += _match(v, got.get(k), f"{where}.{k}")
        return out
    if isinstance(expected, list) and expected and isinstance(expected[0], dict):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"{where}: {len(expected)} éléments attendus, obtenu {got!r}"]
        return [m for i, (e, g) in enumerate(zip(expected, got, strict=True)) for m in _match(e, g, f"{where}[{i}]")]
    return [] if expected == got else [f"{where}: attendu {expected!r}, obtenu {got!r}"]


def _nomenclature(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The shipped nomenclature, extended by a case's own codes (as a référentiel's file)."""
    if not rows:
        return NOMENCLATURE
    far = NOMENCLATURE.get_column("fin").max()
    extra = pl.DataFrame(
        [{"libelle": "", "fin": far, **r, "debut": dt.date.fromisoformat(str(r["debut"]))} for r in rows],
        schema=NOMENCLATURE.schema,
    )
    return merge_nomenclatures(NOMENCLATURE, extra)


@pytest.mark.parametrize(("name", "case"), _cases(), ids=[c[0] for c in _cases()])
def test_scenario(name: str, case: dict[str, Any]) -> None:
    assert case.get("article"), f"{name}: chaque cas cite son article"
    ref = Referentiel.from_records(
        [_beneficiaire(b) for b in case.get("beneficiaires", [])],
        PROFESSIONNELS + case.get("professionnels", []),
        _nomenclature(case.get("nomenclature", [])),
        [{**c, "nir": with_key(c["nir"])} for c in case.get("compteurs", [])],
    )
    feuilles = [_feuille(f) for f in case["feuilles"]]
    got, _ = liquidate_records(ref, feuilles)
    # The large batches' paths (sorts instead of windows, signatures of explanations, streaming
    # chains) give the same décomptes, texts included.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frames, "SMALL_ROWS", 0)
        patch.setattr(engine, "STREAMING_ROWS", 0)
        assert liquidate_records(ref, feuilles)[0] == got, f"{name}: chemins des grands lots"
    expected = case["attendu"]
    assert len(expected) == len(feuilles), f"{name}: un attendu par feuille"
    problems = [m for i, (e, g) in enumerate(zip(expected, got, strict=True)) for m in _match(e, g, f"feuille[{i}]")]
    assert problems == [], "\n".join(problems)
