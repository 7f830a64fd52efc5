from django.urls import path

from identity import token_views, views

app_name = "identity"

urlpatterns: list = [
    path("accounts/register/", views.register, name="register"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/logout/", views.logout, name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/addresses/", views.address_add, name="address-add"),
    path("accounts/addresses/delete/", views.address_delete, name="address-delete"),
    path("accounts/verify/send/", views.verify_send, name="verify-send"),
    path("accounts/verify/<str:token>/", views.verify, name="verify"),
    path("accounts/password/", views.password_change, name="password-change"),
    path("accounts/password/reset/", views.password_reset, name="password-reset"),
    path("accounts/password/reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path("accounts/password/reset/<str:uidb64>/<str:token>/", views.password_reset_confirm,
         name="password-reset-confirm"),
    path("accounts/tokens/", token_views.tokens, name="tokens"),
    path("accounts/tokens/<str:token_id>/revoke/", token_views.revoke, name="token-revoke"),
]
