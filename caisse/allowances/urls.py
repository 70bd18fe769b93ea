from django.urls import path

from caisse.allowances import views

app_name = "allowances"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("arrets/saisir/", views.arret_papier, name="arret_papier"),
    path("dossiers/<int:pk>/", views.dossier, name="dossier"),
    path("dossiers/<int:pk>/attestation-de-salaire/", views.attestation_salaire, name="attestation_salaire"),
    path("dossiers/<int:pk>/calculer/", views.calculer, name="calculer"),
    path("dossiers/<int:pk>/payer/", views.payer, name="payer"),
    path("dossiers/<int:pk>/releve.pdf", views.releve, name="releve"),
    path("beneficiaires/<int:pk>/attestation-ij/", views.attestation, name="attestation"),
    path("delais/", views.delais, name="delais"),
    path("capital-deces/", views.capital_deces_list, name="capital_deces_list"),
    path("capital-deces/nouvelle/", views.capital_deces_new, name="capital_deces_new"),
    path("capital-deces/<int:pk>/", views.capital_deces, name="capital_deces"),
    path("capital-deces/<int:pk>/decider/", views.capital_deces_decider, name="capital_deces_decider"),
]
