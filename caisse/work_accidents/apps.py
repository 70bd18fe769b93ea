from django.apps import AppConfig


class WorkAccidentsConfig(AppConfig):
    name = "caisse.work_accidents"
    label = "work_accidents"
    verbose_name = "Accidents du travail et maladies professionnelles"
