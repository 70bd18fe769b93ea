from django.urls import path

from caisse.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("mon-espace/", views.member_home, name="member_home"),
    path("mon-espace/cartes/<int:card_pk>/perte-vol/", views.member_lost_card, name="member_lost_card"),
]
