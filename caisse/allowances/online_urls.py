"""Online spaces of the assuré (IJ, AT/MP) and of the employer (e-DAT, salary certificate, IJ
paid under subrogation). Mounted under ``/en-ligne/``."""

from django.urls import path

from caisse.allowances import online

app_name = "online"

urlpatterns = [
    path("mes-indemnites-journalieres/", online.mes_ij, name="mes_ij"),
    path("mes-indemnites-journalieres/dossiers/<int:pk>/releve.pdf", online.mon_releve, name="mon_releve"),
    path("mes-indemnites-journalieres/attestation/", online.mon_attestation, name="mon_attestation"),
    path("mes-accidents-du-travail/", online.mes_atmp, name="mes_atmp"),
    path("employeur/", online.employeur_home, name="employeur"),
    path("employeur/indemnites-subrogation/", online.employeur_paiements, name="employeur_paiements"),
    path("employeur/declarer-un-accident/", online.declarer_accident, name="declarer_accident"),
    path("employeur/attestation-de-salaire/", online.attestation_trouver, name="attestation_trouver"),
    path("employeur/arrets/<int:pk>/attestation-de-salaire/", online.attestation_salaire, name="attestation_salaire"),
]
