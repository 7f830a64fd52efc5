app_name = "fulfillment"

urlpatterns: list = []
