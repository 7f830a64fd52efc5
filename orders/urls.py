from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.order_list, name="list"),
    # The number's format is checked by the view, so a malformed one gets the shop's 404 page too.
    path("orders/<str:order_number>/", views.order_detail, name="detail"),
]
