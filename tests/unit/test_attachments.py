"""Voice notes, videos and documents accepted by their content and size (domain/attachments.py), never by a name or
a declared type."""
from __future__ import annotations

import pytest

from chalicelib.domain import attachments
from chalicelib.domain.attachments import RefusedFile, check
from local.sandbox.inbound import voice_note

MP4_VIDEO = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free" + b"\x00\x00\x00\x08moov"
M4A = b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom" + b"\x00\x00\x00\x08moov"
THREE_GP = b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00isom" + b"\x00\x00\x00\x08moov"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize("kind, data, content_type", [
    ("audio", voice_note(), "audio/ogg"),
    ("audio", b"#!AMR\n" + bytes(32), "audio/amr"),
    ("audio", b"ID3\x04\x00" + bytes(64), "audio/mpeg"),
    ("audio", b"\xff\xfb\x90\x64" + bytes(64), "audio/mpeg"),  # an MPEG-1 layer III frame without ID3
    ("audio", b"\xff\xf1\x50\x80" + bytes(64), "audio/aac"),  # ADTS
    ("audio", M4A, "audio/mp4"),
    ("audio", MP4_VIDEO, "audio/mp4"),  # a plain MP4 container sent as audio is audio/mp4
    ("video", MP4_VIDEO, "video/mp4"),
    ("video", THREE_GP, "video/3gpp"),
    ("document", PDF, "application/pdf"),
])
def test_what_whatsapp_carries_is_accepted_by_its_content(kind, data, content_type):
    checked = check(data, kind)
    assert (checked.kind, checked.content_type, checked.size) == (kind, content_type, len(data))


@pytest.mark.parametrize("kind, data, reason", [
    ("audio", b"OggS\x00\x02" + bytes(40) + b"\x01vorbis", "unsupported_type"),  # Ogg without Opus: not WhatsApp's
    ("audio", PDF, "unsupported_type"),  # content of another kind
    ("video", M4A, "unsupported_type"),
    ("video", b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  moov", "unsupported_type"),  # QuickTime
    ("video", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "unsupported_type"),  # a photo
    ("document", b"PK\x03\x04" + bytes(64), "unsupported_type"),  # .docx and other office files: macros, not shown
    ("document", b"MZ\x90\x00" + bytes(64), "unsupported_type"),
    ("document", b"just some text", "unsupported_type"),
    ("document", PDF[:-7], "damaged"),  # cut short: no %%EOF
    ("video", MP4_VIDEO[:-8], "damaged"),  # no index (moov)
    ("audio", b"", "damaged"),
])
def test_anything_else_is_refused_with_its_reason(kind, data, reason):
    with pytest.raises(RefusedFile) as refused:
        check(data, kind)
    assert refused.value.reason == reason


def test_the_size_is_checked_before_the_content():
    with pytest.raises(RefusedFile) as refused:
        check(b"x" * 2048, "audio", max_bytes=1024)
    assert refused.value.reason == "too_large"
    assert check(PDF, "document", max_bytes=len(PDF)).size == len(PDF)
    assert attachments.DEFAULT_MAX_BYTES == 16 * 1024 * 1024  # documented: Meta allows documents of 100 MB


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        check(PDF, "sticker")
