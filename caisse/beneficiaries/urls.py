from django.urls import path

from caisse.beneficiaries import views

app_name = "beneficiaries"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/identite/", views.edit_identity, name="edit_identity"),
]
