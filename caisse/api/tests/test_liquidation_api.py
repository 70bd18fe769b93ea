"""Real-time liquidation gives exactly what the batch engine gives for the same feuille."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from caisse.accounts.models import ApiToken, Role
from caisse.batch_io import iter_ndjson
from caisse.beneficiaries.exchange import import_referentiel
from caisse.claims.services import import_referentiel_extras
from caisse.rules.claims.engine import liquidate_records
from caisse.rules.claims.referentiel import load_referentiel

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "examples" / "liquider"
FIELDS = ("statut", "rejets", "paiement_ps_cts", "paiement_assure_cts", "part_c2s_cts", "dette_creee_cts",
          "dette_recuperee_cts")


@pytest.fixture
def token(make_user) -> str:  # type: ignore[no-untyped-def]
    if not EXAMPLES.exists():
        pytest.skip("Exemples du contrat absents (../shared/spec/examples).")
    import_referentiel(EXAMPLES / "referentiel", quiet=True)
    import_referentiel_extras(EXAMPLES / "referentiel", quiet=True)
    # An agent's token: it liquidates the feuilles of any professional (a professional's, its own only).
    return ApiToken.issue(make_user(Role.LIQUIDATEUR, username="logiciel"), "liquidation en ligne")[1]


def test_each_feuille_alone_matches_the_engine_alone(token: str) -> None:
    feuilles = [f for f in iter_ndjson(EXAMPLES / "feuilles.ndjson") if f][:40]
    referentiel = load_referentiel(EXAMPLES / "referentiel")
    for feuille in feuilles:
        expected = liquidate_records(referentiel, [feuille])[0][0]
        response = Client().post("/api/v1/liquidations", json.dumps(feuille), content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200
        got = response.json()
        assert {k: got.get(k) for k in FIELDS} == {k: expected.get(k) for k in FIELDS}, feuille["id"]
        assert [line["montant_rembourse_cts"] for line in got["lignes"]] == [
            line["montant_rembourse_cts"] for line in expected["lignes"]]


def test_a_body_that_is_not_a_feuille_is_a_french_problem(token: str) -> None:
    response = Client().post("/api/v1/liquidations", "[1, 2]", content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400 and "feuille" in response.json()["detail"]


def test_the_operation_is_published() -> None:
    assert "/api/v1/liquidations" in Client().get("/api/openapi.json").json()["paths"]


def test_beyond_the_liquidations_in_flight_it_answers_503_at_once(token: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from caisse.api import claims

    full = threading.BoundedSemaphore(1)
    full.acquire()
    monkeypatch.setattr(claims, "SLOTS", full)
    feuille = next(f for f in iter_ndjson(EXAMPLES / "feuilles.ndjson") if f)
    response = Client().post("/api/v1/liquidations", json.dumps(feuille), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "réessayez" in response.json()["detail"]
    full.release()
    response = Client().post("/api/v1/liquidations", json.dumps(feuille), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response["X-Caisse-Lot"] == "1"
    timing = dict(part.split(";", 1)[0:2] for part in response["Server-Timing"].split(", "))
    assert set(timing) == {"attente", "lot"}
    assert all(float(value.split(";")[0].removeprefix("dur=")) >= 0 for value in timing.values())


@pytest.mark.parametrize(("change", "missing"), [
    ({"nir": None}, ["nir"]), ({"lignes": None}, ["lignes"]), ({"id": None, "executant": None}, ["id", "executant"]),
    ({"lignes": []}, []), ({"lignes": [1]}, []), ({"lignes": "G"}, []),
])
def test_a_feuille_the_engine_cannot_read_is_a_422_naming_what_is_missing(  # type: ignore[no-untyped-def]
        token: str, change: dict, missing: list[str]) -> None:
    feuille = next(f for f in iter_ndjson(EXAMPLES / "feuilles.ndjson") if f)
    body = {k: v for k, v in {**feuille, **change}.items() if v is not None}
    response = Client().post("/api/v1/liquidations", json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["rejets"] == ["DONNEE_INVALIDE"] and problem["champs_manquants"] == missing
    assert all(name in problem["detail"] for name in missing) and ".." not in problem["detail"]
    # the engine alone rejects the same feuille whole
    referentiel = load_referentiel(EXAMPLES / "referentiel")
    assert "DONNEE_INVALIDE" in liquidate_records(referentiel, [body])[0][0]["rejets"]


def test_an_empty_object_is_a_422_not_a_rejected_decompte_without_id(token: str) -> None:
    response = Client().post("/api/v1/liquidations", "{}", content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 422
    assert set(response.json()["champs_manquants"]) == {"id", "date_reception", "nir", "executant", "tiers_payant", "lignes"}


def test_an_unexpected_failure_is_a_french_500_problem_not_a_traceback_page(token: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from caisse.api import claims

    def broken(feuille: dict) -> None:
        raise RuntimeError("panne")

    monkeypatch.setattr(claims, "liquidate_sized", broken)
    feuille = next(f for f in iter_ndjson(EXAMPLES / "feuilles.ndjson") if f)
    response = Client(raise_request_exception=False).post(
        "/api/v1/liquidations", json.dumps(feuille), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 500 and response["Content-Type"] == "application/problem+json"
    assert "panne" not in response.content.decode() and response.json()["title"] == "Erreur interne"


def test_a_professional_liquidates_its_own_feuilles_only(token: str, make_user) -> None:  # type: ignore[no-untyped-def]
    """A professional's token liquidates the feuilles it executes; another professional's are refused
    (they would tell it a patient's debts and exonerations)."""
    from caisse.professionals.models import HealthProfessional

    feuille = next(f for f in iter_ndjson(EXAMPLES / "feuilles.ndjson") if f)
    mine = HealthProfessional.objects.get(identifiant=feuille["executant"])
    own = ApiToken.issue(make_user(Role.PROFESSIONNEL, username="cabinet", professional=mine), "cabinet")[1]
    ok = Client().post("/api/v1/liquidations", json.dumps(feuille), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {own}")
    assert ok.status_code == 200
    other = HealthProfessional.objects.exclude(pk=mine.pk).first()
    refused = Client().post("/api/v1/liquidations", json.dumps({**feuille, "executant": other.identifiant}),
                            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {own}")
    assert refused.status_code == 403 and mine.identifiant in refused.json()["detail"]
    orphan = ApiToken.issue(make_user(Role.PROFESSIONNEL, username="sans-ps"), "cabinet")[1]
    assert Client().post("/api/v1/liquidations", json.dumps(feuille), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {orphan}").status_code == 403


def test_an_invalid_value_is_named_with_the_engines_rejection(token: str) -> None:
    """A value the engine judges invalid: the décompte is the engine's (DONNEE_INVALIDE, as in the
    batch), and ``champs_invalides`` names each field in French."""
    feuille = next(f for f in iter_ndjson(EXAMPLES / "feuilles.ndjson") if f)
    bad = {**feuille, "parcours": "MT", "lignes": [{**feuille["lignes"][0], "date_soins": "05/12/2026"}]}
    response = Client().post("/api/v1/liquidations", json.dumps(bad), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    got = response.json()
    assert response.status_code == 200 and "DONNEE_INVALIDE" in got["rejets"]
    assert any(c.startswith("parcours : une valeur parmi medecin_traitant") for c in got["champs_invalides"])
    assert "lignes[1].date_soins : date AAAA-MM-JJ attendue" in got["champs_invalides"]
    good = Client().post("/api/v1/liquidations", json.dumps(feuille), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert "champs_invalides" not in good
    schema = Client().get("/api/openapi.json").json()["components"]["schemas"]
    assert "hors_parcours" in schema["Feuille"]["properties"]["parcours"]["enum"]
