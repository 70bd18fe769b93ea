"""The back-office URL map the view tests use: the shared pages and the IJ pages only, so that
the tests do not depend on applications still being written next door."""

from django.urls import include, path

urlpatterns = [
    path("", include("caisse.web.urls")),
    path("", include("caisse.accounts.urls")),
    path("beneficiaires/", include("caisse.beneficiaries.urls")),
    path("", include("caisse.rights.urls")),
    path("professionnels/", include("caisse.professionals.urls")),
    path("ij/", include("caisse.allowances.urls")),
]

handler403 = "caisse.web.views.permission_denied"
