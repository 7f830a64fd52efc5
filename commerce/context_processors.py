from django.conf import settings


def shop(request):
    # The count is kept in the session by the cart views, so no page needs a Temporal query for it.
    session = getattr(request, "session", None)
    return {"shop_name": settings.SHOP_NAME, "cart_count": session.get("cart_count", 0) if session is not None else 0}
