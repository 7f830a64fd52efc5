from django.urls import path

from cart import views

urlpatterns = [
    path("cart/", views.cart_page, name="cart"),
    path("cart/add/", views.add, name="cart-add"),
    path("cart/update/", views.update, name="cart-update"),
    path("cart/remove/", views.remove, name="cart-remove"),
    path("cart/coupon/", views.coupon, name="cart-coupon"),
]
