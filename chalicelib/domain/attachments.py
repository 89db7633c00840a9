"""Citizens' voice notes, videos and documents: accepted by their content (magic bytes) and size, never by a name.

Pure functions, bytes in: no I/O and no decoder is run on what a citizen sends (staff's browsers play or open the
files; nothing is ever transcoded here). Photos have their own rules (domain/images.py). What WhatsApp carries
(reference whatsapp-provider.md, "Supported types and size limits"): audio aac, amr, mp3, m4a and ogg (Opus only);
video mp4 and 3gp; documents of office formats and PDF, of which only PDF is kept (the others carry macros and
cannot be shown safely to staff). Meta lets audio and video reach 16 MB and documents 100 MB; we keep 16 MB for
every kind (DEFAULT_MAX_BYTES), as the inbound worker holds one file in memory at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("audio", "video", "document")
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

# ISO base media ("ftyp") brands: audio-only MP4 (m4a), 3GPP video; images (HEIF/AVIF) and QuickTime are refused.
_M4A_BRANDS = (b"M4A ", b"M4B ", b"M4P ")
_IMAGE_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis")
_QUICKTIME = b"qt  "
_PDF_TAIL = 2048  # "%%EOF" ends every complete PDF, give or take trailing whitespace and junk

# kind -> format -> (content type, extension)
FORMATS: dict[str, dict[str, tuple[str, str]]] = {
    "audio": {"ogg": ("audio/ogg", "ogg"), "amr": ("audio/amr", "amr"), "amr-wb": ("audio/amr-wb", "awb"),
              "mp3": ("audio/mpeg", "mp3"), "aac": ("audio/aac", "aac"), "m4a": ("audio/mp4", "m4a"),
              "mp4": ("audio/mp4", "m4a")},
    "video": {"mp4": ("video/mp4", "mp4"), "3gp": ("video/3gpp", "3gp")},
    "document": {"pdf": ("application/pdf", "pdf")},
}


class RefusedFile(ValueError):
    """What a citizen sent is not a file we keep; reason is too_large, unsupported_type or damaged."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckedFile:
    """An accepted file: its kind, the content type and extension its content shows, its size in bytes."""

    kind: str
    content_type: str
    extension: str
    size: int


def check(data: bytes, kind: str, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedFile:
    """Accept data as a file of kind (audio, video or document), by its content only, or raise RefusedFile.
    The size is checked first; a file whose content is another kind's (a PDF sent as audio) is unsupported."""
    if kind not in FORMATS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if len(data) > max_bytes:
        raise RefusedFile("too_large", f"{len(data)} bytes, at most {max_bytes}")
    if not data:
        raise RefusedFile("damaged", "empty")
    found = identify(data, kind)
    if found not in FORMATS[kind]:
        raise RefusedFile("unsupported_type", found or "unknown")
    _check_complete(data, found)
    content_type, extension = FORMATS[kind][found]
    return CheckedFile(kind, content_type, extension, len(data))


def identify(data: bytes, kind: str = "audio") -> str | None:
    """The format of data by its magic bytes (a key of FORMATS' kinds, or a name we refuse), None if unknown.
    kind decides only what a plain MP4 container is: audio (m4a) for an audio message, else video."""
    head = data[:64]
    if head.startswith(b"OggS"):
        return "ogg" if b"OpusHead" in data[:512] else "ogg-not-opus"
    if head.startswith(b"#!AMR-WB\n"):
        return "amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "amr"
    if head.startswith(b"ID3"):
        return "mp3"
    if head.startswith(b"ADIF"):
        return "aac"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame's sync word
        return "aac" if head[1] & 0x06 == 0 else "mp3"  # layer 0 is AAC's ADTS; 1-3 are MPEG-1/2 audio layers
    if head[4:8] == b"ftyp" and int.from_bytes(head[:4], "big") >= 8:
        return _iso_format(head[8:12], kind)
    if head.startswith(b"%PDF-"):
        return "pdf"
    return _other(head)


def _iso_format(brand: bytes, kind: str) -> str:
    if brand in _M4A_BRANDS:
        return "m4a"
    if brand.startswith(b"3g"):
        return "3gp"
    if brand in _IMAGE_BRANDS:
        return "heif/avif image"
    if brand == _QUICKTIME:
        return "quicktime"
    return "mp4" if kind != "document" else "mp4 video"


def _other(head: bytes) -> str | None:
    """Names of formats we refuse, for the logs."""
    known = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG", "png"), (b"GIF8", "gif"), (b"PK\x03\x04", "zip/office"),
             (b"\xd0\xcf\x11\xe0", "office 97"), (b"RIFF", "riff (wav/avi/webp)"), (b"fLaC", "flac"),
             (b"\x1aE\xdf\xa3", "matroska/webm"), (b"MZ", "executable"), (b"\x7fELF", "executable"))
    return next((name for magic, name in known if head.startswith(magic)), None)


def _check_complete(data: bytes, found: str) -> None:
    """The cheap signs that a file was cut short: a PDF without its end marker, an MP4 without its index."""
    if found == "pdf" and b"%%EOF" not in data[-_PDF_TAIL:]:
        raise RefusedFile("damaged", "a PDF without its end")
    if found in ("mp4", "m4a", "3gp") and b"moov" not in data:
        raise RefusedFile("damaged", "an MP4 without its index (moov)")
