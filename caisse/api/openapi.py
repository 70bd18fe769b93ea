"""The OpenAPI 3.1 document of the HTTP API, published at ``/api/openapi.json``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

PROBLEM = {"$ref": "#/components/responses/Probleme"}

PERIOD = {
    "type": "object",
    "properties": {"debut": {"type": "string", "format": "date"},
                   "fin": {"type": ["string", "null"], "format": "date"}},
}

PATHS: dict[str, Any] = {
    "/api/v1/droits/{nir}": {
        "get": {
            "operationId": "consulterDroits",
            "summary": "Droits d'un bénéficiaire à une date (consultation des droits en ligne)",
            "tags": ["Droits"],
            "parameters": [
                {"name": "nir", "in": "path", "required": True, "description": "NIR ou NIA, 15 caractères avec la clé",
                 "schema": {"type": "string", "pattern": "^[0-9AB]{15}$"}},
                {"name": "date", "in": "query", "required": False, "description": "Date des soins (défaut : aujourd'hui)",
                 "schema": {"type": "string", "format": "date"}},
            ],
            "responses": {
                "200": {"description": "Droits ouverts à la date",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Droits"}}}},
                "400": PROBLEM, "401": PROBLEM, "403": PROBLEM, "404": PROBLEM, "422": PROBLEM,
            },
        }
    },
    "/api/fhir/Coverage": {
        "get": {
            "operationId": "rechercherCouvertures",
            "summary": "Couvertures d'un bénéficiaire, ressources FHIR R4 Coverage",
            "tags": ["FHIR"],
            "parameters": [
                {"name": "beneficiary:identifier", "in": "query", "required": True,
                 "description": "urn:oid:1.2.250.1.213.1.4.8|<NIR>", "schema": {"type": "string"}},
                {"name": "date", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
            ],
            "responses": {"200": {"description": "Bundle FHIR de type searchset (vide pour un NIR inconnu)",
                                  "content": {"application/fhir+json": {"schema": {"type": "object"}}}},
                          "400": PROBLEM, "401": PROBLEM, "403": PROBLEM, "422": PROBLEM},
        }
    },
}

COMPONENTS: dict[str, Any] = {
    "securitySchemes": {"jeton": {"type": "http", "scheme": "bearer"}},
    "responses": {
        "Probleme": {"description": "Erreur (RFC 9457), message en français",
                     "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Probleme"}}}},
    },
    "schemas": {
        "Probleme": {"type": "object", "required": ["title", "status"],
                     "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                    "status": {"type": "integer"}, "detail": {"type": "string"}}},
        "Periode": PERIOD,
        "Droits": {
            "type": "object",
            "required": ["nir", "date", "couvert"],
            "properties": {
                "nir": {"type": "string"}, "date": {"type": "string", "format": "date"},
                "couvert": {"type": "boolean"},
                "deces": {"type": ["string", "null"], "format": "date"},
                "droits_de_base": {"oneOf": [{"$ref": "#/components/schemas/Periode"}, {"type": "null"}]},
                "c2s": {"oneOf": [{"allOf": [{"$ref": "#/components/schemas/Periode"}, {
                    "type": "object", "properties": {"participation": {"type": "boolean"}}}]}, {"type": "null"}]},
                "ame": {"oneOf": [{"$ref": "#/components/schemas/Periode"}, {"type": "null"}]},
                "exoneration_ald": {"type": "boolean"}, "maternite": {"type": "boolean"},
                "invalidite": {"type": "boolean"},
                "medecin_traitant": {"type": ["string", "null"]},
                "carte_vitale": {"type": ["string", "null"]},
                "tiers_payant_obligatoire": {"type": "boolean"},
            },
        },
    },
}


def register(path: str, spec: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Other domains add their operations here (the document stays one place)."""
    PATHS[path] = spec
    COMPONENTS["schemas"].update(schemas or {})


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "API de Caisse", "version": "1.0.0",
                 "description": "API HTTP de la caisse primaire : droits, liquidation, FHIR R4."},
        "servers": [{"url": "/"}],
        "security": [{"jeton": []}],
        "paths": PATHS,
        "components": COMPONENTS,
    }


def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})
