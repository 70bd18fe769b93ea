"""URL map of the back-office and of the online space (French paths)."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("mon-espace/remboursements/", include("caisse.claims.online_urls")),
    path("", include("caisse.web.urls")),
    path("", include("caisse.accounts.urls")),
    path("beneficiaires/", include("caisse.beneficiaries.urls")),
    path("", include("caisse.rights.urls")),
    path("professionnels/", include("caisse.professionals.urls")),
    path("api/", include("caisse.api.urls")),
    path("atmp/", include("caisse.work_accidents.urls")),
    path("ij/", include("caisse.allowances.urls")),
    path("en-ligne/professionnel/", include("caisse.claims.professional_urls")),
    path("en-ligne/", include("caisse.allowances.online_urls")),
    path("frais-de-sante/", include("caisse.claims.urls")),
]

handler403 = "caisse.web.views.permission_denied"
