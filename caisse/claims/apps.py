from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "caisse.claims"
    label = "claims"
    verbose_name = "Frais de santé"
