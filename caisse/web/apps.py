from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "caisse.web"
    label = "web"
    verbose_name = "Back-office et espaces en ligne"
