from django.urls import path

from caisse.work_accidents import views

app_name = "work_accidents"

C = "dossiers/<int:pk>/"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("declarer/", views.declare, name="declare"),
    path("indicateurs/", views.indicators_view, name="indicators"),
    path(C, views.case_detail, name="case"),
    path(C + "certificat-medical-initial/", views.record_certificate, name="record_certificate"),
    path(C + "double-employeur/", views.record_employer_copy, name="record_employer_copy"),
    path(C + "reserves/", views.record_reserves, name="record_reserves"),
    path(C + "enquete/", views.open_investigation, name="open_investigation"),
    path(C + "questionnaires/", views.send_questionnaires, name="send_questionnaires"),
    path(C + "questionnaires/<int:questionnaire_pk>/retour/", views.questionnaire_return, name="questionnaire_return"),
    path(C + "questionnaires/<int:questionnaire_pk>/courrier.pdf", views.questionnaire_letter,
         name="questionnaire_letter"),
    path(C + "consultation/", views.open_consultation, name="open_consultation"),
    path(C + "crrmp/", views.refer_crrmp, name="refer_crrmp"),
    path(C + "decision/", views.decide, name="decide"),
    path(C + "decision/courrier-<str:recipient>.pdf", views.decision_letter, name="decision_letter"),
]
