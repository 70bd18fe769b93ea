"""The health professional's online space. Mounted under ``/en-ligne/professionnel/``."""

from django.urls import path

from caisse.claims import online

app_name = "espace_ps"

urlpatterns = [
    path("", online.professional_home, name="accueil"),
]
