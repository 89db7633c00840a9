"""Citizens' photos: accepted or refused by their content, and a public copy with no metadata."""
from __future__ import annotations

import io
import random

import pytest
from PIL import ExifTags, Image

from chalicelib.domain.images import DEFAULT_MAX_BYTES, CheckedImage, RefusedImage, check, strip_metadata

GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (43.0, 43.0, 12.5),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (10.0, 55.0, 1.25)}


def picture(width: int = 40, height: int = 20, mode: str = "RGB") -> Image.Image:
    """A picture whose top-left quarter is red and the rest blue, so orientation can be seen."""
    image = Image.new(mode, (width, height), "blue")
    image.paste("red", (0, 0, width // 2, height // 2))
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def phone_jpeg(orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera, an orientation, a GPS position; XMP, ICC and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return encode(picture(), "JPEG", exif=exif, xmp=xmp, icc_profile=b"not really a profile", comment=b"Via Roma 1")


def refused(data: bytes, **kwargs) -> str:
    with pytest.raises(RefusedImage) as caught:
        check(data, **kwargs)
    return caught.value.reason


def test_phone_jpeg_is_accepted_with_its_displayed_size():
    data = phone_jpeg(orientation=6)  # stored 40x20, displayed turned by 90 degrees
    with Image.open(io.BytesIO(data)) as image:  # the test picture really carries what it should
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert {"exif", "xmp", "icc_profile", "comment"} <= image.info.keys()
    assert check(data) == CheckedImage("image/jpeg", "jpg", 20, 40, len(data))


@pytest.mark.parametrize("fmt,content_type,extension", [("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")])
def test_png_and_webp_are_accepted(fmt, content_type, extension):
    data = encode(picture(), fmt)
    assert check(data) == CheckedImage(content_type, extension, 40, 20, len(data))


def test_declared_type_does_not_matter_only_content():
    data = encode(picture(), "PNG")
    assert check(bytearray(data)).content_type == "image/png"  # no name or mime type is ever asked for


@pytest.mark.parametrize("data,reason", [
    (encode(picture().convert("P"), "GIF"), "unsupported_type"),
    (encode(picture(), "TIFF"), "unsupported_type"),
    (encode(picture(), "BMP"), "unsupported_type"),
    (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "unsupported_type"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "unsupported_type"),
    (random.Random(7).randbytes(4096), "not_an_image"),
    (b"Buongiorno, la buca in via Roma e' ancora li'", "not_an_image"),
    (b"", "not_an_image"),
])
def test_refused_kinds(data, reason):
    assert refused(data) == reason


def test_truncated_jpeg_is_damaged():
    data = encode(Image.effect_noise((200, 200), 64).convert("RGB"), "JPEG")
    assert refused(data[: len(data) // 2]) == "damaged"


def test_jpeg_cut_inside_its_header_is_damaged():
    assert refused(phone_jpeg()[:40]) == "damaged"


def test_png_with_a_bad_checksum_is_damaged():
    data = bytearray(encode(Image.effect_noise((64, 64), 64), "PNG"))
    data[-20] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches
    assert refused(bytes(data)) == "damaged"


def test_size_limit_comes_before_decoding():
    data = encode(picture(), "PNG")
    assert refused(data, max_bytes=len(data) - 1) == "too_large"
    assert check(data, max_bytes=len(data)).size == len(data)
    assert refused(bytes(DEFAULT_MAX_BYTES + 1)) == "too_large"  # zeros: never looked at as an image


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width,height", [(15, 10), (40, 40)])  # above the limit (Pillow warns), above twice (it raises)
def test_decompression_bombs_are_too_large(monkeypatch, width, height):
    data = encode(picture(width, height), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    assert refused(data) == "too_large"
    with pytest.raises(RefusedImage):
        strip_metadata(data)


def test_strip_metadata_removes_exif_gps_xmp_icc_and_comment_and_stays_upright():
    public = strip_metadata(phone_jpeg(orientation=6))
    with Image.open(io.BytesIO(public)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "xmp", "icc_profile", "comment"} & image.info.keys()
        assert image.size == (20, 40)
        rgb = image.convert("RGB")
        assert _is_red(rgb.getpixel((15, 5)))  # turned 90 degrees clockwise: red is now the top-right quarter
        assert not _is_red(rgb.getpixel((5, 5)))
    assert b"Phone" not in public and b"Via Roma" not in public and b"xmpmeta" not in public
    assert check(public) == CheckedImage("image/jpeg", "jpg", 20, 40, len(public))


def test_strip_metadata_without_orientation_keeps_the_size():
    with Image.open(io.BytesIO(strip_metadata(phone_jpeg(orientation=1)))) as image:
        assert image.size == (40, 20) and not image.getexif()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_strip_metadata_keeps_png_and_webp_format_and_drops_their_exif(fmt):
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = GPS
    exif[ExifTags.Base.Orientation] = 8
    data = encode(picture(), fmt, exif=exif, icc_profile=b"not really a profile")
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    with Image.open(io.BytesIO(strip_metadata(data))) as image:
        assert image.format == fmt
        assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
        assert image.size == (20, 40)


def test_strip_metadata_keeps_png_transparency():
    image = picture(mode="RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))
    with Image.open(io.BytesIO(strip_metadata(encode(image, "PNG")))) as public:
        assert public.mode == "RGBA" and public.getpixel((0, 0))[3] == 0


def test_strip_metadata_refuses_what_check_refuses():
    with pytest.raises(RefusedImage) as caught:
        strip_metadata(encode(picture().convert("P"), "GIF"))
    assert caught.value.reason == "unsupported_type"


def _is_red(pixel) -> bool:
    red, green, blue = pixel
    return red > 200 and green < 60 and blue < 60
