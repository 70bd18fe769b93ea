"""Real-time liquidation of one FSE: the same engine and the same référentiel as the daily run.

The answer is what the daily run would pay for this feuille if it were the next one processed:
the person's counters (caps, debt) come from the database, nothing is written. The feuille is
then sent in a flow (``caisse recevoir``), where it is stored and paid once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import polars as pl
from django.db.models import Count, Max
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has
from caisse.api import openapi
from caisse.api.auth import authenticated, problem
from caisse.claims.models import ImportedNomenclature
from caisse.claims.services import load_counters, referentiel_for, stored_nomenclature
from caisse.rules.claims.engine import liquidate_records

JSON = {"ensure_ascii": False}


@lru_cache(maxsize=2)
def _nomenclature(version: tuple[int, Any]) -> pl.DataFrame:
    return stored_nomenclature()


def _nomenclature_version() -> tuple[int, Any]:
    """Changes when an import adds or replaces codes, so that the cache never serves old tariffs."""
    stats = ImportedNomenclature.objects.aggregate(n=Count("pk"), last=Max("pk"))
    return stats["n"], stats["last"]


def liquidate_one(feuille: dict[str, Any]) -> dict[str, Any]:
    nir, executant = str(feuille.get("nir") or ""), str(feuille.get("executant") or "")
    referentiel = referentiel_for([nir], [executant], _nomenclature(_nomenclature_version()))
    decomptes, _ = liquidate_records(referentiel, [feuille], load_counters([nir]))
    return decomptes[0]


@csrf_exempt
@require_POST
@authenticated
def liquidation(request: HttpRequest) -> JsonResponse:
    user = request.api_user  # type: ignore[attr-defined]
    if not (user.role == Role.PROFESSIONNEL or has(user, Capability.VIEW_FILE)):
        return problem(403, "Accès refusé", "La liquidation en ligne est réservée aux professionnels et agents.")
    try:
        feuille = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return problem(400, "Corps illisible", "Un objet JSON (une feuille de soins, contrat §2) est attendu.")
    if not isinstance(feuille, dict):
        return problem(400, "Corps illisible", "Un objet JSON (une feuille de soins, contrat §2) est attendu.")
    return JsonResponse(liquidate_one(feuille), json_dumps_params=JSON)


openapi.register(
    "/api/v1/liquidations",
    {
        "post": {
            "operationId": "liquiderFeuille",
            "summary": "Liquidation immédiate d'une feuille de soins électronique (sans paiement)",
            "description": "Même moteur et mêmes règles que le traitement quotidien ; les compteurs de la "
                           "personne (plafonds, dette) sont lus dans la base, rien n'est enregistré.",
            "tags": ["Frais de santé"],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Feuille"}}}},
            "responses": {
                "200": {"description": "Décompte (contrat §2)", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Decompte"}}}},
                "400": openapi.PROBLEM, "401": openapi.PROBLEM, "403": openapi.PROBLEM,
            },
        }
    },
    {
        "Feuille": {
            "type": "object",
            "required": ["id", "type", "nir", "executant", "lignes"],
            "properties": {
                "id": {"type": "string"}, "type": {"enum": ["FSE", "FSP"]},
                "date_reception": {"type": "string", "format": "date"}, "nir": {"type": "string"},
                "executant": {"type": "string"}, "prescripteur": {"type": ["string", "null"]},
                "tiers_payant": {"type": "boolean"}, "risque": {"enum": ["maladie", "maternite", "atmp"]},
                "parcours": {"type": "string"}, "en_rapport_ald": {"type": "boolean"},
                "carte_vitale": {"type": ["string", "null"]},
                "lignes": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "date_soins": {"type": "string", "format": "date"},
                    "quantite": {"type": "integer"}, "coefficient": {"type": "number"},
                    "montant_facture_cts": {"type": "integer"}}}},
            },
        },
        "Decompte": {
            "type": "object",
            "properties": {
                "id": {"type": "string"}, "statut": {"enum": ["liquidee", "rejetee"]},
                "rejets": {"type": "array", "items": {"type": "string"}},
                "destinataire": {"enum": ["ps", "assure"]},
                **{name: {"type": "integer"} for name in (
                    "montant_rembourse_cts", "paiement_ps_cts", "paiement_assure_cts", "part_c2s_cts",
                    "dette_creee_cts", "dette_recuperee_cts")},
                "lignes": {"type": "array", "items": {"type": "object"}},
                "explication": {"type": "string"},
            },
        },
    },
)
