from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "caisse.accounts"
    label = "accounts"
    verbose_name = "Comptes et rôles"
