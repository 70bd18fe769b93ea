from django.urls import path

from caisse.claims import views

app_name = "claims"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("rechercher/", views.lookup, name="lookup"),
    path("feuilles/saisir/", views.capture_feuille, name="capture"),
    path("feuilles/<int:pk>/", views.feuille, name="feuille"),
    path("feuilles/rechercher/", views.feuille_lookup, name="feuille_lookup"),
    path("beneficiaires/<int:pk>/", views.beneficiary, name="beneficiary"),
    path("beneficiaires/<int:pk>/decompte/<str:date>.pdf", views.statement_pdf, name="statement"),
    path("professionnels/<str:identifiant>/", views.professional, name="professional"),
    path("delais/", views.delays, name="delays"),
    path("paiements/", views.payments, name="payments"),
    path("paiements/<int:run_id>/virements.xml", views.payments_sepa, name="payments_sepa"),
    path("paiements/<int:run_id>/sans-iban/", views.payments_without_iban, name="payments_without_iban"),
]
