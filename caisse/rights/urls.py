from django.urls import path

from caisse.rights import views

app_name = "rights"

F = "beneficiaires/<int:pk>/"

urlpatterns = [
    path(F + "droits/ouvrir/", views.open_rights, name="open_rights"),
    path(F + "droits/<int:period_pk>/fermer/", views.close_rights, name="close_rights"),
    path(F + "medecin-traitant/", views.medecin_traitant, name="medecin_traitant"),
    path(F + "maternite/declarer/", views.pregnancy, name="pregnancy"),
    path(F + "maternite/<int:maternity_pk>/accouchement/", views.birth, name="birth"),
    path(F + "cartes/commander/", views.order_card, name="order_card"),
    path(F + "cartes/<int:card_pk>/opposition/", views.oppose_card, name="oppose_card"),
    path(F + "cartes/<int:card_pk>/<slug:step>/", views.advance_card, name="advance_card"),
    path(F + "ald/protocole/", views.submit_protocol, name="submit_protocol"),
    path(F + "ald/<int:ald_pk>/examen/", views.review_protocol, name="review_protocol"),
    path(F + "controles/<int:control_pk>/clore/", views.close_control, name="close_control"),
    path(F + "attestation.pdf", views.attestation, name="attestation"),
    path(F + "c2s/demande/", views.c2s_request, name="c2s_request"),
    path(F + "c2s/demandes/<int:request_pk>/", views.c2s_result, name="c2s_result"),
    path(F + "c2s/<int:attribution_pk>/echeances/", views.c2s_dues, name="c2s_dues"),
    path(F + "c2s/<int:attribution_pk>/echeances/<int:due_pk>/paiement/", views.pay_due, name="pay_due"),
    path(F + "ame/demande/", views.ame_request, name="ame_request"),
    path(F + "ame/<int:ame_pk>/", views.ame_result, name="ame_result"),
    path(F + "deces/", views.declare_death, name="declare_death"),
    path(F + "invalidite/ouvrir/", views.open_invalidity, name="open_invalidity"),
    path(F + "rattachement/", views.attach, name="attach"),
    path("protocoles-ald/", views.protocol_queue, name="protocol_queue"),
    path("controles-residence/", views.residence_controls, name="residence_controls"),
    path("controles-residence/ouvrir/", views.open_controls, name="open_controls"),
    path("c2s/suspensions/", views.c2s_suspensions, name="c2s_suspensions"),
    path("c2s/suspensions/lancer/", views.run_c2s_suspensions, name="run_c2s_suspensions"),
]
