"""Read digit pictures from files, with a clear message for anything that is not one."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # far above any photo of a digit; Pillow's bomb check stays on too
MAX_SIDE = 560  # larger pictures are shrunk first: plenty for a 28×28 result, and fast


class ImageError(ValueError):
    """The file is not an image we can read; the message says why."""


def load_image(source: str | Path | bytes, name: str | None = None) -> np.ndarray:
    """A picture as a uint8 array (RGBA when it has transparency, else greyscale),
    its longer side at most MAX_SIDE pixels."""
    name = name or (str(source) if not isinstance(source, bytes) else "the upload")
    if isinstance(source, bytes) and not source:
        raise ImageError(f"{name} is empty.")
    opened = BytesIO(source) if isinstance(source, bytes) else source
    try:
        with Image.open(opened) as file:
            image: Image.Image = file
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(
                    f"{name} is {image.width}×{image.height} pixels: too large for a digit."
                )
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size
            image.load()
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            image = _upright(image)  # phone photos: upright as taken
            if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                image = _to_8_bit(image)
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            return np.asarray(image.convert("RGBA" if has_alpha else "L"))
    except FileNotFoundError as error:
        raise ImageError(f"{name} does not exist.") from error
    except UnidentifiedImageError as error:
        raise ImageError(f"{name} is not a picture this app can read: use a PNG or JPEG "
                         "file.") from error
    except Image.DecompressionBombError as error:  # Pillow's own check, past 179 megapixels
        raise ImageError(f"{name} is far too large for a picture of a digit (over "
                         f"{MAX_PIXELS // 1_000_000} million pixels).") from error
    except ImageError:
        raise
    except OSError as error:
        raise ImageError(f"{name} could not be read: {error}") from error
    except _DAMAGED_FILE_ERRORS as error:  # Pillow's parsers, on damaged headers and data
        raise ImageError(f"{name} could not be read: {error}") from error


# What Pillow's format parsers raise besides OSError when a file is damaged (a PGM header
# cut short, for one, is a ValueError); anything else is a bug and stays visible.
_DAMAGED_FILE_ERRORS = (ValueError, SyntaxError)


# EXIF orientation → the turn that shows the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image) -> Image.Image:
    """The picture turned as its EXIF orientation says.

    Not ImageOps.exif_transpose: it also rewrites the EXIF block, and a damaged block
    makes that raise (struct.error) although the pixels are fine.
    """
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    method = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return image.transpose(method) if method is not None else image


def _to_8_bit(image: Image.Image) -> Image.Image:
    """16-bit greyscale as 8-bit, tones kept (Pillow's own conversion clips at 255)."""
    values = np.asarray(image, dtype=np.float64)
    if values.max() > 255:
        values = values / 257  # 65535 → 255
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
