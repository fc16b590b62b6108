"""Uploaded images, re-encoded: what is served is pixels Pillow wrote.

An image is decoded and encoded again in its own format, so no EXIF/GPS, no comments
and no trailing polyglot payload survive; orientation is applied, colours become sRGB,
and sizes, pixel counts and animations are bounded (a decoded image costs memory and CPU).
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms, ImageSequence

from parley import protocol
from parley.file_kinds import FileRejected, Kind, wrong_type

MAX_IMAGE_SIDE = 4096  # longer images are scaled down to this many pixels
MAX_IMAGE_PIXELS = 40_000_000  # decoded pixels (after JPEG draft scaling); more is refused
MAX_FRAMES = 300  # animations with more frames keep only the first one
MAX_ANIMATION_PIXELS = 25_000_000  # frames x width x height of a kept animation

_ORIENTATION = 0x0112
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def reencode_image(data: bytes, kind: Kind) -> tuple[bytes, int, int]:
    """Decodes and re-encodes an image in its own format: orientation applied, colours in
    sRGB, at most MAX_IMAGE_SIDE pixels a side, no metadata kept. Returns (bytes, width, height).

    Animated GIF, WebP and APNG stay animated when they have at most MAX_FRAMES frames
    and MAX_ANIMATION_PIXELS pixels in all; larger animations keep their first frame.
    """
    label = kind.pil_format
    try:
        with Image.open(io.BytesIO(data), formats=[label]) as image:
            if label == "JPEG":
                # Decode big JPEGs at 1/2, 1/4 or 1/8 scale right away: cheap and small.
                image.draft(None, (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            width, height = image.size
            if width < 1 or height < 1:
                raise wrong_type(f"this {label} image has no pixels")
            if width * height > MAX_IMAGE_PIXELS:
                raise FileRejected(413, protocol.E_FILE_TOO_LARGE,
                                   f"the image is {width}x{height} pixels; at most "
                                   f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels are accepted")
            transpose = _TRANSPOSE.get(image.getexif().get(_ORIENTATION))
            size = _fitted((height, width) if transpose in _SWAPS else (width, height))
            encode = {"JPEG": {"quality": 85, "optimize": True},
                      "WEBP": {"lossless": True} if _webp_lossless(data) else {"quality": 85}}.get(label, {})
            frames = getattr(image, "n_frames", 1)
            if 1 < frames <= MAX_FRAMES and frames * size[0] * size[1] <= MAX_ANIMATION_PIXELS:
                out = _animation(image, label, transpose, size, encode)
            else:
                out = _still(image, label, transpose, size, encode)
    except FileRejected:
        raise
    except Exception:  # untrusted input: whatever Pillow raises means "not a valid image"
        raise wrong_type(f"this is not a valid {label} image") from None
    return out, size[0], size[1]


_SWAPS = {Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE,
          Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270}


def _fitted(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if longest <= MAX_IMAGE_SIDE:
        return width, height
    scale = MAX_IMAGE_SIDE / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _webp_lossless(data: bytes) -> bool:
    # A lossless WebP has a VP8L bitstream chunk; a lossy one (maybe with alpha) has VP8.
    head = data[12:4096]
    return b"VP8L" in head and b"VP8 " not in head


def _to_srgb(image: Image.Image, label: str) -> Image.Image:
    """A copy in a mode the format writes (L, RGB or RGBA) with sRGB colours: an embedded
    colour profile is applied, then dropped with the rest of the metadata."""
    if image.mode in ("L", "1", "I", "I;16", "I;16B", "I;16L") and label != "WEBP":
        target = "L"
    elif image.mode in ("RGB", "CMYK", "YCbCr", "L") or label == "JPEG":
        target = "RGB"
    else:
        target = "RGBA" if image.mode in _ALPHA_MODES or "transparency" in image.info else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                                  outputMode=target)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # an unusable profile: keep the pixels as they are
    if image.mode.startswith("I"):
        image = image.point(lambda value: value / 256).convert("L")  # 16-bit grey to 8 bits
    return image.convert(target)


def _clean(image: Image.Image) -> Image.Image:
    """The same image object with no metadata at all (only palette transparency survives)."""
    image.info = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
    return image


def _still(image: Image.Image, label: str, transpose, size: tuple[int, int], encode: dict) -> bytes:
    image.seek(0)
    image.load()
    upright = (image.height, image.width) if transpose in _SWAPS else (image.width, image.height)
    keeps_mode = (label in ("PNG", "GIF") and image.mode in ("P", "1", "L", "LA")
                  and "icc_profile" not in image.info and upright == size)
    # Palette and grey images keep their mode when not scaled (smaller files, same pixels).
    frame = image.copy() if keeps_mode else _to_srgb(image, label)
    if transpose is not None:
        frame = frame.transpose(transpose)
    if frame.size != size:
        frame = frame.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    _clean(frame).save(buffer, format=label, **encode)
    return buffer.getvalue()


def _animation(image: Image.Image, label: str, transpose, size: tuple[int, int], encode: dict) -> bytes:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        out = frame.convert("RGBA")
        if transpose is not None:
            out = out.transpose(transpose)
        if out.size != size:
            out = out.resize(size, Image.Resampling.LANCZOS)
        frames.append(_clean(out))
    options = dict(encode, save_all=True, append_images=frames[1:], duration=durations)
    if "loop" in image.info:  # a GIF without a loop count plays once: keep it that way
        options["loop"] = int(image.info["loop"])
    if label == "GIF":
        options["disposal"] = 2  # every frame is the whole picture
    buffer = io.BytesIO()
    frames[0].save(buffer, format=label, **options)
    return buffer.getvalue()
