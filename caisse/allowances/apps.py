from django.apps import AppConfig


class AllowancesConfig(AppConfig):
    name = "caisse.allowances"
    label = "allowances"
    verbose_name = "Indemnités journalières"
