from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "caisse.core"
    label = "core"
    verbose_name = "Socle"
