"""The assuré's reimbursements in the online space. Mounted under ``/mon-espace/remboursements/``."""

from django.urls import path

from caisse.claims import online

app_name = "mes_soins"

urlpatterns = [
    path("", online.my_reimbursements, name="remboursements"),
    path("decompte/<str:date>.pdf", online.my_statement_pdf, name="decompte"),
]
