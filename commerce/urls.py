from django.contrib import admin
from django.urls import include, path

from commerce import views
from commerce.observability.metrics import METRICS_VIEW, metrics_view

urlpatterns = [
    path("robots.txt", views.robots_txt, name="robots-txt"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Prometheus metrics of the web tier (every web process's, added up); workers serve their own.
    path("metrics", metrics_view, name=METRICS_VIEW),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.main")),
    path("", include("cart.urls")),
    path("", include("checkout.urls")),
    path("", include("orders.urls")),
    path("", include("fulfillment.urls")),
    path("", include("inventory.urls")),
    path("", include("identity.urls")),
]

handler404 = "commerce.views.not_found"
handler500 = "commerce.views.server_error"
