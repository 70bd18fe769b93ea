from django.apps import AppConfig


class BeneficiariesConfig(AppConfig):
    name = "caisse.beneficiaries"
    label = "beneficiaries"
    verbose_name = "Bénéficiaires"
