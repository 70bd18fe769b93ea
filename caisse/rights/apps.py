from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "caisse.rights"
    label = "rights"
    verbose_name = "Droits"
