"""The shop's admin site: Django admin as the staff console, headed with the store's name, with a
dashboard of the figures staff look at first (each domain registers its tiles)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import admin

from commerce.console import Tile
from identity.config import store_config

logger = logging.getLogger(__name__)

TileSource = Callable[[object], list[Tile]]


class ShopAdminSite(admin.AdminSite):
    site_title = "Shop admin"
    index_title = "Dashboard"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tile_sources: list[TileSource] = []

    def register_tiles(self, source: TileSource) -> None:
        """`source(request)` answers the dashboard tiles the user may see (none without permission)."""
        self.tile_sources.append(source)

    def each_context(self, request):
        context = super().each_context(request)
        name = store_config().store_name
        context["site_header"] = f"{name} · staff"
        context["site_title"] = f"{name} staff"
        return context

    def index(self, request, extra_context=None):
        return super().index(request, {"tiles": self._tiles(request), **(extra_context or {})})

    def _tiles(self, request) -> list[Tile]:
        tiles: list[Tile] = []
        for source in self.tile_sources:
            try:
                tiles.extend(source(request))
            except Exception:  # a dashboard figure must never take the admin index down with it
                logger.exception("admin: dashboard tiles of %s failed", getattr(source, "__qualname__", source))
        return tiles
