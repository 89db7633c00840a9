"""Citizens' photos: decide by their content whether to accept them, and make a copy without metadata.

Pure functions, bytes in and bytes out: no I/O and no AWS. Only JPEG, PNG and WebP are accepted, and only
Pillow's decoders for those three formats are ever run on what a citizen sends.
"""
from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageDraw, ImageOps, UnidentifiedImageError

ALLOWED = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
# Pillow's format name -> ours. MPO is a JPEG holding several pictures (many phones' portrait mode).
_PILLOW_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp"}
_DECODERS = ("JPEG", "PNG", "WEBP")  # Image.open tries these plugins only
_SAVE_OPTIONS = {"jpeg": {"quality": 85}, "png": {}, "webp": {"quality": 85}}
_KEEP_INFO = ("transparency",)  # of an image's info, the only item that is pixels rather than metadata
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that turn the picture by 90 degrees


class RefusedImage(ValueError):
    """What a citizen sent is not a photo we accept; reason is too_large, not_an_image, unsupported_type or damaged."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckedImage:
    """An accepted photo. width and height are as it is displayed (EXIF orientation applied), like strip_metadata's copy;
    size is the length in bytes of the data checked."""

    content_type: str
    extension: str
    width: int
    height: int
    size: int


def check_base64(data: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, CheckedImage]:
    """A photo a form sent in base64 (a data: URL prefix allowed): its bytes, accepted by check(); RefusedImage
    (not_an_image) when it is no base64 at all."""
    raw = data.split(",", 1)[1] if data.startswith("data:") else data
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise RefusedImage("not_an_image", "not base64") from None
    return content, check(content, max_bytes)


def check(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedImage:
    """Accept data as a photo, by its content only (never by a declared mime type or file name), or raise RefusedImage.

    The size limit is applied before anything is decoded; pictures of more than Pillow's Image.MAX_IMAGE_PIXELS pixels
    (decompression bombs) are refused as too_large; the file is verified, then decoded in full.
    """
    if len(data) > max_bytes:
        raise RefusedImage("too_large", f"{len(data)} bytes, at most {max_bytes}")
    if not data:
        raise RefusedImage("not_an_image", "empty")
    kind = _identify(data)
    with _open(data) as image:
        _check_pixels(image.size)
        _run(image.verify)  # structure and checksums, where the format has them (PNG); the image is unusable after
    with _open(data) as image:
        _run(image.load)  # decodes every pixel: a truncated or corrupt file fails here
        width, height = image.size
        if _run(lambda: image.getexif().get(ExifTags.Base.Orientation)) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
    return CheckedImage(ALLOWED[kind], _EXTENSIONS[kind], width, height, len(data))


def strip_metadata(data: bytes) -> bytes:
    """A copy of an accepted photo (see check) with no EXIF, GPS, XMP, ICC profile or comment, in the same format.

    The pixels are re-encoded (JPEG and WebP at quality 85) after the EXIF orientation is applied, so the picture
    stays upright. Only the first frame of an animated PNG or WebP is kept. This is the copy shown outside staff.
    """
    kind = _identify(data)
    with _open(data) as image:
        _check_pixels(image.size)
        upright = _run(lambda: ImageOps.exif_transpose(image))
    upright.info = {key: value for key, value in upright.info.items() if key in _KEEP_INFO}
    out = io.BytesIO()
    upright.save(out, format=kind.upper(), **_SAVE_OPTIONS[kind])
    return out.getvalue()


def redact(data: bytes, boxes: Sequence[tuple[float, float, float, float]]) -> bytes:
    """A copy of a photo's public copy (strip_metadata's) with each box painted over in solid black, in the same
    format; nothing of the covered pixels survives. A box is (x, y, width, height) in fractions of the picture's
    width and height (0..1, from the top left corner), as staff drew it over the picture as displayed."""
    kind = _identify(data)
    with _open(data) as image:
        _check_pixels(image.size)
        picture = _run(lambda: image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB"))
    width, height = picture.size
    draw = ImageDraw.Draw(picture)
    for x, y, w, h in boxes:
        left, top = math.floor(x * width), math.floor(y * height)
        right, bottom = math.ceil((x + w) * width), math.ceil((y + h) * height)  # whole pixels, never fewer
        draw.rectangle((left, top, max(left, right - 1), max(top, bottom - 1)), fill="black")
    if kind == "jpeg" and picture.mode != "RGB":
        picture = picture.convert("RGB")
    out = io.BytesIO()
    picture.save(out, format=kind.upper(), **_SAVE_OPTIONS[kind])
    return out.getvalue()


def _identify(data: bytes) -> str:
    """Our name of data's format (a key of ALLOWED), as Pillow recognises it from the content."""
    try:
        with _open(data) as image:
            pillow_format = image.format or ""
    except RefusedImage as refused:
        if refused.reason != "not_an_image":
            raise
        sniffed = _sniff(data)
        if sniffed in ALLOWED:
            raise RefusedImage("damaged", f"{sniffed} that cannot be read") from refused
        if sniffed:
            raise RefusedImage("unsupported_type", sniffed) from refused
        raise
    if pillow_format not in _PILLOW_FORMATS:
        raise RefusedImage("unsupported_type", pillow_format.lower())
    return _PILLOW_FORMATS[pillow_format]


def _open(data: bytes) -> Image.Image:
    """Image.open restricted to the accepted formats (it reads the header only; pixels are decoded lazily)."""
    try:
        return Image.open(io.BytesIO(data), formats=_DECODERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RefusedImage("too_large", str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise RefusedImage("not_an_image") from exc
    except Exception as exc:  # a hostile file can make a decoder raise almost anything
        raise RefusedImage("damaged", str(exc)) from exc


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse pictures above Pillow's MAX_IMAGE_PIXELS (Image.open only raises at twice that; below, it warns)."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit and size[0] * size[1] > limit:
        raise RefusedImage("too_large", f"{size[0]}x{size[1]} pixels, at most {limit}")


def _run(step):
    """step(), with whatever a decoder raises turned into RefusedImage."""
    try:
        return step()
    except RefusedImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RefusedImage("too_large", str(exc)) from exc
    except Exception as exc:  # a hostile file can make a decoder raise almost anything
        raise RefusedImage("damaged", str(exc)) from exc


def _sniff(data: bytes) -> str | None:
    """The format of data by its magic bytes, for files Pillow's three decoders cannot open; None if unknown."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp":  # ISO media: HEIC/HEIF and AVIF photos, MP4 and MOV videos
        return "heic/avif/video (" + head[8:12].decode("ascii", "replace") + ")"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"BM") and len(data) >= 26 and data[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    return None
