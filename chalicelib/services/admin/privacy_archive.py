"""The subject-access export as a downloadable archive (GDPR art. 15): a ZIP with the export as JSON (dati.json),
a summary in Italian for the person (riepilogo.txt) and the files they sent with their reports (file/), bounded
in size: files that would take the archive past MAX_MEDIA_BYTES are listed as left out, never cut."""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.access import Staff
from chalicelib.domain.phones import mask_key
from chalicelib.domain.reports import Report
from chalicelib.domain.spreadsheets import content_disposition
from chalicelib.messages import text
from chalicelib.services import clock
from chalicelib.services.access import tenant_of
from chalicelib.services.admin import privacy
from chalicelib.store import media

CONTENT_TYPE = "application/zip"
MAX_MEDIA_BYTES = 3_000_000  # the answer travels in base64 (4/3) and Lambda answers at most 6 MB
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "audio/ogg": "ogg", "audio/mpeg": "mp3",
              "audio/mp4": "m4a", "audio/aac": "aac", "audio/amr": "amr", "video/mp4": "mp4", "video/3gpp": "3gp",
              "application/pdf": "pdf"}


@dataclass(frozen=True)
class Archive:
    body: bytes
    content_type: str
    disposition: str


def archive(staff: Staff, raw: str) -> Archive:
    """The archive of everything held about one number (audited and logged by privacy.collect)."""
    exported, sent = privacy.collect(staff, raw)
    files, left_out = _files(sent)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive_file:
        archive_file.writestr("dati.json", json.dumps(exported, ensure_ascii=False, indent=2, default=str))
        archive_file.writestr("riepilogo.txt", summary(staff, exported, len(files), left_out))
        for name, data in files:
            archive_file.writestr(name, data)
    return Archive(out.getvalue(), CONTENT_TYPE,
                   content_disposition(text("privacy.archive.title"), clock.now().date(), "zip"))


def _files(sent: list[Report]) -> tuple[list[tuple[str, bytes]], int]:
    """(name, bytes) of the files the person sent, oldest report first, while they fit; and how many did not."""
    files, room, left_out = [], MAX_MEDIA_BYTES, 0
    for report in sorted(sent, key=lambda r: r.report_id):
        for n, photo in enumerate(report.photos, 1):
            if not photo.original_key:
                continue
            if (photo.size or 0) > room:
                left_out += 1
                continue
            try:
                data = media.read(photo.original_key, room)
            except ValueError:
                left_out += 1
                continue
            room -= len(data)
            extension = EXTENSIONS.get(photo.content_type or "", "bin")
            files.append((f"file/{report.number.replace('/', '-')}-{n}.{extension}", data))
    return files, left_out


def _day(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%d/%m/%Y")


def summary(staff: Staff, exported: dict, files: int, left_out: int) -> str:
    """What the archive holds, in Italian, for the person who asked."""
    tenant = tenant_of(staff)
    records = exported["citizen_records"]
    reports = exported["reports"]
    talks = exported["conversations"]
    lines = [text("privacy.archive.heading", comune=tenant.name, masked=mask_key(exported["subject"])),
             text("privacy.archive.generated", date=_day(exported["generated_at"])), "",
             text("privacy.archive.records", count=len(records))]
    lines += [text("privacy.archive.record", channel=r["channel_name"], status=_status(r.get("status")))
              for r in records]
    lines += [text("privacy.archive.consents", count=len(exported["consents"])),
              text("privacy.archive.reports", sent=sum(r["role"] == "reporter" for r in reports),
                   followed=sum(r["role"] == "follower" for r in reports))]
    lines += [text("privacy.archive.report", number=r["number"], status=text(f"status.{r['status']}"),
                   created=_day(r["created_at"])) for r in reports]
    lines += [text("privacy.archive.deliveries", count=len(exported["deliveries"])),
              text("privacy.archive.conversations", count=len(talks), messages=sum(len(t["messages"]) for t in talks)),
              text("privacy.archive.audit", count=len(exported["audit"])),
              text("privacy.archive.files", count=files)]
    if left_out:
        lines.append(text("privacy.archive.files_left", count=left_out, max_mb=MAX_MEDIA_BYTES // 1_000_000))
    lines += ["", text("privacy.archive.json"), "", text("privacy.archive.not_included"),
              text("privacy.archive.note.queues"), text("privacy.archive.note.backups")]
    if any("safety tips" in note for note in exported["not_included"]):
        lines.append(text("privacy.archive.note.tips"))
    return "\n".join(lines) + "\n"


def _status(code: str | None) -> str:
    try:
        return text(f"export.value.subscriber_status.{code}")
    except KeyError:
        return code or "-"
