"""The inventory's staff console: stock levels and changes, and the catalog."""

from inventory.admin import catalog, stock  # noqa: F401 - each registers its pages
