from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("checkout/start/", views.start, name="start"),
    path("checkout/shipping/", views.shipping, name="shipping"),
    path("checkout/payment/", views.payment, name="payment"),
    path("checkout/review/", views.review, name="review"),
    path("checkout/submit/", views.submit, name="submit"),
    path("checkout/cancel/", views.cancel, name="cancel"),
    path("checkout/processing/", views.processing, name="processing"),
    path("checkout/complete/", views.complete, name="complete"),
]
