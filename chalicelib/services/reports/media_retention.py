"""Photos do not outlive their report: a daily sweep deletes the folders of reports that are gone.

A closed report expires by its DynamoDB TTL (the tenant's `retention.closed_reports`); DynamoDB deletes the
item and nothing else. The sweep lists the photos bucket and deletes every report folder whose report no
longer exists. Erasure deletes a report's photos at once (services.reports.erasure); the bucket's lifecycle
rule (resources.BUCKETS) remains the backstop for anything both miss.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.observability import logger
from chalicelib.services import clock
from chalicelib.store import media
from chalicelib.store import reports as store

GRACE = timedelta(days=1)  # a photo is stored a moment after its report: never judge a folder that young


def sweep(older_than: datetime | None = None) -> dict[str, int]:
    folders = media.report_folders(older_than or clock.now() - GRACE)
    alive = store.existing(list(folders))
    orphans = [key for folder, keys in folders.items() if folder not in alive for key in keys]
    media.delete_keys(orphans)
    result = {"folders": len(folders), "orphan_folders": len(set(folders) - alive), "deleted": len(orphans)}
    logger.info("report photos swept", extra=result)
    return result
