from django.urls import path, re_path

from caisse.api import claims, openapi, rights
from caisse.api.auth import endpoint, not_found

app_name = "api"

urlpatterns = [
    path("openapi.json", endpoint("GET")(openapi.openapi_json), name="openapi"),
    path("v1/droits/<str:nir>", rights.rights_lookup, name="rights"),
    path("fhir/Coverage", rights.fhir_coverage, name="fhir-coverage"),
    path("v1/liquidations", claims.liquidation, name="liquidation"),
    re_path(r"^(?P<rest>.*)$", not_found),  # any other /api/ address: a 404 problem, not an HTML page
]
