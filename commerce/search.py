"""Elasticsearch index management shared by every domain's documents.

A document's `Index.name` is an alias; the data lives in a concrete, timestamped index behind
it. Searches go through the alias, so a rebuild can fill a fresh index and swap the alias in one
atomic step and no shopper ever sees a half-built index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from django.conf import settings
from django_elasticsearch_dsl.registries import registry
from elasticsearch import Elasticsearch
from elasticsearch.dsl.connections import connections
from elasticsearch.helpers import streaming_bulk

from commerce.progress import Progress

logger = logging.getLogger(__name__)


def index_name(base: str) -> str:
    """The alias a document is searched through, with the environment's prefix."""
    return f"{settings.ELASTICSEARCH_INDEX_PREFIX}{base}"


def es() -> Elasticsearch:
    return connections.get_connection()


def documents() -> list:
    return sorted(registry.get_documents(), key=lambda doc: doc._index._name)


def concrete_indices(alias: str) -> list[str]:
    if not es().indices.exists_alias(name=alias):
        return []
    return sorted(es().indices.get_alias(name=alias).keys())


def create_concrete_index(document) -> str:
    """A new, empty index with the document's mappings and settings; not yet behind the alias."""
    alias = document._index._name
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    name = f"{alias}-{stamp}"
    document._index.clone(name).create(using=es())
    return name


def point_alias(alias: str, index: str) -> list[str]:
    """Move the alias to `index` atomically; return the indices it left."""
    return point_aliases({alias: index})[alias]


def point_aliases(targets: dict[str, str]) -> dict[str, list[str]]:
    """Move each alias to its index in one atomic step (searches see all moved or none);
    return, per alias, the indices it left."""
    previous = {alias: [name for name in concrete_indices(alias) if name != index]
                for alias, index in targets.items()}
    actions = [{"remove": {"index": name, "alias": alias}} for alias, names in previous.items() for name in names]
    actions += [{"add": {"index": index, "alias": alias}} for alias, index in targets.items()]
    es().indices.update_aliases(actions=actions)
    return previous


def drop_index(index: str) -> None:
    """Delete an index (gone already is fine)."""
    es().indices.delete(index=index, ignore_unavailable=True)


def ensure_index(document) -> tuple[str, bool]:
    """The concrete index behind the document's alias, created if missing. Returns (index, created)."""
    alias = document._index._name
    existing = concrete_indices(alias)
    if existing:
        return existing[0], False
    if es().indices.exists(index=alias):
        # A write reached the alias's name before the alias existed, and Elasticsearch created a plain
        # index there with guessed mappings: it stands in the alias's way and is rebuilt by `reindex`.
        logger.warning("deleting the index %s that stands where its alias belongs", alias)
        es().indices.delete(index=alias)
    index = create_concrete_index(document)
    point_alias(alias, index)
    return index, True


@dataclass(frozen=True)
class RebuildSummary:
    alias: str
    index: str
    documents: int
    removed_indices: list[str]


def document_actions(document, index: str, objects: Iterable) -> Iterator[dict]:
    """Bulk actions that write `objects`, as `document` prepares them, into `index`."""
    preparer = document()
    for obj in objects:
        yield {"_index": index, "_id": document.generate_id(obj), "_source": preparer.prepare(obj)}


def fill_index(index: str, actions: Iterable[dict], chunk_size: int = 500,
               advance: Callable[[], None] | None = None) -> int:
    """Write bulk `actions` (already aimed at `index`); return how many documents were written.
    A document Elasticsearch refuses raises `elasticsearch.helpers.BulkIndexError`."""
    indexed = 0
    for _ok, _item in streaming_bulk(es(), actions, chunk_size=chunk_size, raise_on_error=True):
        indexed += 1
        if advance is not None:
            advance()
    return indexed


def rebuild(
    document,
    objects: Iterable,
    total: int,
    stream: TextIO | None = None,
    chunk_size: int = 500,
) -> RebuildSummary:
    """Fill a fresh index from `objects`, then swap the alias to it and drop the old index.

    Searches keep reading the old index until the swap; if anything fails the new index is
    deleted and the alias is left as it was.
    """
    return rebuild_from_actions(document, lambda index: document_actions(document, index, objects), total,
                                stream, chunk_size)


def rebuild_from_actions(
    document,
    actions: Callable[[str], Iterable[dict]],
    total: int,
    stream: TextIO | None = None,
    chunk_size: int = 500,
) -> RebuildSummary:
    """`rebuild` with the bulk actions made by the caller (`actions(index)`), e.g. to keep each
    document's external version."""
    alias = document._index._name
    index = create_concrete_index(document)
    try:
        with Progress(f"indexing {alias}", total, stream) as progress:
            indexed = fill_index(index, actions(index), chunk_size, progress.advance)
        es().indices.refresh(index=index)
        previous = point_alias(alias, index)
    except BaseException:
        drop_index(index)
        raise
    for name in previous:
        drop_index(name)
    return RebuildSummary(alias=alias, index=index, documents=indexed, removed_indices=previous)
