from django.urls import path

from caisse.api import claims, openapi, rights

app_name = "api"

urlpatterns = [
    path("openapi.json", openapi.openapi_json, name="openapi"),
    path("v1/droits/<str:nir>", rights.rights_lookup, name="rights"),
    path("fhir/Coverage", rights.fhir_coverage, name="fhir-coverage"),
    path("v1/liquidations", claims.liquidation, name="liquidation"),
]
