"""Typed readers for configuration from the environment.

Every setting of the project is read here or in settings.py through these helpers, so a
wrong value fails at startup with the variable's name instead of deep inside a request.
This module imports nothing from Django: the local stack uses it before Django is set up.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    pass


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float, low: float = 0.0, high: float = 1e9) -> float:
    """A finite number within [low, high]: "nan", "inf" and out-of-range values fail at startup."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw) if len(raw) <= 32 else float("nan")
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:  # also false for nan
        raise ConfigError(f"{name} must be a number from {low:g} to {high:g}, got {raw!r}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


def data_dir() -> Path:
    """Where the local stack keeps its downloads, data and logs (ignored by git)."""
    return env_path("COMMERCE_DATA_DIR", REPO_ROOT / ".local")
