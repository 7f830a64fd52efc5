"""The store configuration in Cassandra: the current row (`store_config`) and the history
(`store_config_changes`), written by the `store-config` workflow's persist activity and read by
the web tier's cached copy, by activities (fresh) and by the services that start the workflow."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime

from identity.contracts import ShippingMethod, StoreConfig, StoreConfigChange
from identity.models import StoreConfigChangeRecord, StoreConfiguration

CURRENT = "current"
HISTORY = "store"
_FIELDS = {field.name for field in fields(StoreConfig)}


def to_json(config: StoreConfig) -> str:
    return json.dumps(asdict(config), sort_keys=True)


def from_json(text: str) -> StoreConfig:
    """A stored configuration; fields it lacks take StoreConfig's defaults, unknown ones are dropped."""
    data = {key: value for key, value in json.loads(text).items() if key in _FIELDS}
    data["shipping_methods"] = tuple(ShippingMethod(**method) for method in data.get("shipping_methods", ()))
    data["tax_basis_points"] = dict(data.get("tax_basis_points", {}))
    return StoreConfig(**data)


def write(config: StoreConfig, change: StoreConfigChange) -> None:
    """The change's history row, then the current row. Idempotent (a retry writes the same rows);
    the workflow persists one version at a time, so versions arrive in order."""
    changed_at = datetime.fromisoformat(change.changed_at)
    StoreConfigChangeRecord.create(key=HISTORY, version=change.version, changed_at=changed_at, actor=change.actor,
                                   summary=list(change.summary), reason=change.reason, action_id=change.action_id,
                                   config_json=to_json(config))
    StoreConfiguration.create(key=CURRENT, version=config.version, config_json=to_json(config),
                              updated_at=changed_at, updated_by=change.actor)


def read_current() -> StoreConfig | None:
    """The persisted configuration, None when nothing was ever changed. Raises the driver's errors."""
    row = StoreConfiguration.objects.filter(key=CURRENT).first()
    return from_json(row.config_json) if row is not None else None


def read_changes(limit: int = 50) -> tuple[StoreConfigChange, ...]:
    """The latest changes, oldest first."""
    rows = StoreConfigChangeRecord.objects.filter(key=HISTORY).limit(limit)
    return tuple(StoreConfigChange(row.version, row.actor, row.changed_at.isoformat() if row.changed_at else "",
                                   tuple(row.summary or ()), row.reason, row.action_id)
                 for row in reversed(list(rows)))
