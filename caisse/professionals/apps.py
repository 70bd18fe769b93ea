from django.apps import AppConfig


class ProfessionalsConfig(AppConfig):
    name = "caisse.professionals"
    label = "professionals"
    verbose_name = "Professionnels, établissements, employeurs"
