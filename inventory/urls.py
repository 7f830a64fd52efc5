from django.urls import path

from inventory import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("collections/<slug:slug>/", views.collection_detail, name="collection"),
    path("products/<slug:slug>/", views.product_detail, name="product"),
    path("images/<slug:shape>/<str:colour>.svg", views.product_image, name="product-image"),
]
