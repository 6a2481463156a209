"""Turn a drawing into a 28×28 input prepared the way MNIST itself was.

MNIST digits were cropped, scaled to fit a 20×20 box (aspect ratio kept,
anti-aliased) and placed in 28×28 with their centre of mass at the centre.
A plain resize of the whole canvas skips all of that and the model misreads
most drawings, so every step is repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import skeletonize

from mnist_core.data import IMAGE_SIZE

DIGIT_BOX = 20
# Where MNIST's centres of mass lie on average (row, column), measured on its test set.
MNIST_CENTRE = (14.0, 14.0)
# MNIST's median stroke width in 28×28 units, measured as `stroke_width` measures (each
# test digit's crop scaled to WORK_SIZE first, as drawings are).
MNIST_STROKE_WIDTH = 2.5
THICKEN_BELOW = 0.8  # strokes under this share of MNIST's width are thickened
THIN_ABOVE = 1.0  # strokes over this share of MNIST's width are thinned
THICK_PEN = 2.0  # strokes this many times MNIST's width for their size fill the digit's loops
THICK_PEN_TEXT = ("Thick strokes for a digit this size: loops fill in, and such drawings "
                  "are misread 3–4× as often.")
WORK_SIZE = 4 * 20  # the crop's longer side while strokes are measured and mended
WORK_STROKE_WIDTH = MNIST_STROKE_WIDTH * WORK_SIZE / DIGIT_BOX  # MNIST's, at working size
MAX_PIXEL_VALUE = 65535  # pixel values beyond 16 bits are not a picture
INK_THRESHOLD = 0.2  # ink strength (0–1) that counts as drawn
FRINGE_THRESHOLD = 0.02  # the faintest anti-aliased edge of a stroke
MIN_CONTRAST = 0.15  # ink this close to the background is noise, not a digit
MIN_PIECE_OF_CANVAS = 0.0005  # pieces smaller than this share of the canvas are specks...
MIN_PIECE_OF_LARGEST = 0.05  # ...and so are pieces this small next to the largest stroke


def ink_from_image(image: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1] per pixel from an RGBA, RGB or greyscale uint8 image.

    A transparent canvas carries its strokes in the alpha channel. Opaque images
    (RGBA ones too) are read as greyscale, and whichever of dark or light is the
    background (the majority of the border) becomes 0.

    Other numeric arrays are read on the same 0–255 scale; an empty image, one that
    is not numbers, or one with NaN, infinite or absurd values raises ValueError.
    """
    image = _checked_pixels(image)
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3].astype(np.float32) / 255
        if np.median(_border(alpha)) < 0.5:  # transparent background: strokes are the alpha
            return alpha
        # An opaque picture (perhaps with a few transparent pixels): lay it on white.
        rgb = image[..., :3].astype(np.float32)
        image = rgb * alpha[..., None] + 255 * (1 - alpha[..., None])
    if image.ndim == 3 and image.shape[2] == 3:
        grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    elif image.ndim == 2:
        grey = image.astype(np.float32)
    else:  # unreachable: _checked_pixels allows no other shape
        raise ValueError(f"expected an H×W, H×W×3 or H×W×4 image, got shape {image.shape}")
    grey /= 255
    ink = 1.0 - grey if np.median(_border(grey)) > 0.5 else grey
    return stretch_contrast(ink)


def _checked_pixels(image) -> np.ndarray:
    """The image as an array the steps below can work on, or a ValueError saying why not.

    uint8 (every picture and canvas) passes untouched; other types are checked
    value by value, since NaN or huge values would otherwise turn into NaN inputs.
    """
    image = np.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise ValueError(f"expected an H×W, H×W×3 or H×W×4 image, got shape {image.shape}")
    if image.size == 0:
        raise ValueError(f"the image is empty: shape {image.shape}")
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind not in "biuf":
        raise ValueError(f"pixel values must be numbers, got an array of {image.dtype}")
    values = image.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("the image has NaN or infinite pixel values")
    if np.abs(values).max() > MAX_PIXEL_VALUE:
        raise ValueError(
            f"pixel values must lie within ±{MAX_PIXEL_VALUE} (8- or 16-bit), "
            f"got {values.min():g} to {values.max():g}"
        )
    return values


def stretch_contrast(ink: np.ndarray) -> np.ndarray:
    """Background to 0 and the strongest ink to 1: grey paper, faded pencil, dim photos.

    A clean canvas (background 0, ink 1) is left as it is.
    """
    background = float(np.median(_border(ink)))
    strongest = float(np.percentile(ink, 99.9))
    if strongest - background < MIN_CONTRAST:
        return np.zeros_like(ink)  # a flat picture: nothing is drawn on it
    return np.clip((ink - background) / (strongest - background), 0.0, 1.0).astype(np.float32)


def _border(image: np.ndarray) -> np.ndarray:
    """The outermost pixels: mostly background in any picture of one digit."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def remove_specks(ink: np.ndarray) -> np.ndarray:
    """Ink without the small isolated pieces that are noise, not strokes.

    Pieces are traced down to the faintest ink, so each keeps its anti-aliased
    fringe, but sized by their solid core.
    """
    drawn = ink > FRINGE_THRESHOLD
    rows = np.flatnonzero(drawn.any(axis=1))
    if rows.size == 0:
        return np.zeros_like(ink)
    cols = np.flatnonzero(drawn.any(axis=0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # all of the ink, less work
    # Pixels touching at a corner belong together: thin slanted strokes are diagonal chains.
    labels, count = ndimage.label(drawn[box], structure=np.ones((3, 3)))
    sizes = np.bincount(labels[ink[box] > INK_THRESHOLD], minlength=count + 1)[1:]
    min_size = max(MIN_PIECE_OF_CANVAS * ink.size, MIN_PIECE_OF_LARGEST * sizes.max(), 1)
    if (sizes >= min_size).all():  # the usual drawing: nothing to drop, nothing to copy
        return ink.astype(np.float32, copy=False)
    keep = np.concatenate([[False], sizes >= min_size])
    cleaned = np.zeros(ink.shape, np.float32)
    cleaned[box] = np.where(keep[labels], ink[box], 0.0)
    return cleaned


@dataclass(frozen=True)
class PreprocessSteps:
    """Each stage of the preparation, as images a learner can look at."""

    ink: np.ndarray  # the whole canvas: ink strength 0–1, specks removed
    crop: np.ndarray  # cut to the ink's bounding box
    stroke: np.ndarray  # at working resolution, strokes brought to MNIST's thickness
    fitted: np.ndarray  # scaled to fit 20×20
    centred: np.ndarray  # placed in 28×28 by centre of mass: the model's input
    stroke_width: float  # of the ink as drawn, in pixels at working resolution

    @property
    def thick_pen(self) -> bool:
        """Strokes twice MNIST's width for the digit's size, or more: its loops fill in.

        Drawings that get the hint are misread several times as often as the rest
        (bench/drawn_digits.py; docs/recognition.md, "The thick-pen hint"). Evening
        the strokes out cannot reopen a loop the pen has filled.
        """
        return self.stroke_width >= THICK_PEN * WORK_STROKE_WIDTH


def preprocess_steps(image: np.ndarray) -> PreprocessSteps | None:
    """All the steps from a drawing to a 28×28 MNIST-style input; None if nothing is drawn."""
    ink = remove_specks(ink_from_image(image))
    if ink.max() <= INK_THRESHOLD:
        return None
    crop = _cropped(ink)
    work = resize_longer_side(crop, WORK_SIZE)
    width, depth = _stroke_measure(work)
    stroke = normalise_stroke(work, width, depth)
    if stroke.max() <= INK_THRESHOLD:
        return None
    fitted = fit_in_box(_cropped(stroke))
    return PreprocessSteps(ink, crop, stroke, fitted, centre_by_mass(fitted), width)


def preprocess_canvas(image: np.ndarray) -> np.ndarray | None:
    """A 28×28 float32 MNIST-style input (white digit on black), or None if nothing is drawn."""
    steps = preprocess_steps(image)
    return None if steps is None else steps.centred


def _cropped(ink: np.ndarray) -> np.ndarray:
    """Cut to the bounding box of the pixels that count as drawn (there must be some)."""
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def resize_longer_side(image: np.ndarray, size: int) -> np.ndarray:
    """Scale so the longer side is `size` pixels, aspect ratio kept, anti-aliased."""
    height, width = image.shape
    scale = size / max(height, width)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(image.astype(np.float32)).resize(
        target, Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    return np.clip(np.asarray(resized), 0.0, 1.0)


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in pixels: twice the median distance from centre line to edge.

    (Area over centre-line length, the simpler measure, overestimates fat strokes by
    a fifth or more: their centre lines stop a pen's radius short of each end.)
    """
    return _stroke_measure(ink)[0]


def _stroke_measure(ink: np.ndarray) -> tuple[float, np.ndarray]:
    """(`stroke_width`, each pixel's distance to the nearest background pixel).

    The crop ends where the ink ends, so the background around it is added back
    first: without it, a straight 1 (its stroke as wide as the crop) had no
    background beside it and measured as wide as it is tall.
    """
    mask = np.pad(ink > 0.5, 1)
    depth = ndimage.distance_transform_edt(mask)[1:-1, 1:-1]
    centre_line = skeletonize(mask)[1:-1, 1:-1]
    width = float(2 * np.median(depth[centre_line])) if centre_line.any() else 0.0
    return width, depth


def normalise_stroke(work: np.ndarray, width: float, depth: np.ndarray) -> np.ndarray:
    """Strokes brought to MNIST's width: thin pens thickened, fat ones thinned.

    `work` is the crop at WORK_SIZE, with its `_stroke_measure` (`width`, `depth`);
    MNIST's width scales by WORK_SIZE / DIGIT_BOX.
    Thin pens are misread most. A fat pen blots small digits; eroding it back to
    MNIST's width (and fitting the thinner digit to 20×20 again) reads better, for
    the dense model and the CNN alike (bench/drawn_digits.py; docs/recognition.md,
    "Stroke width"). The erosion keeps the ink deeper than the radius inside the
    stroke, with a one-pixel soft edge: the same readings as eroding with a disk
    (measured), without its cost for fat pens.
    """
    target = WORK_STROKE_WIDTH
    if width and width < THICKEN_BELOW * target:
        return ndimage.grey_dilation(work, footprint=_disk((target - width) / 2))
    if width > THIN_ABOVE * target:
        # A blob is no stroke: erode by at most a quarter of the digit, which erases it.
        radius = min((width - target) / 2, WORK_SIZE / 4)
        return np.clip(depth - radius, 0.0, 1.0).astype(np.float32)
    return work


def _disk(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    y, x = np.ogrid[-r : r + 1, -r : r + 1]
    return x * x + y * y <= radius * radius + 0.5


def fit_in_box(digit: np.ndarray, box: int = DIGIT_BOX) -> np.ndarray:
    """Scale the digit so its longer side is `box` pixels, at full ink strength."""
    fitted = resize_longer_side(digit, box)
    peak = fitted.max()
    # Thin strokes fade when shrunk; MNIST strokes are at full strength.
    return fitted / peak if peak > 0 else fitted


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place the digit in 28×28 so that its centre of mass lands where MNIST's do."""
    height, width = digit.shape
    cy, cx = ndimage.center_of_mass(digit)
    top = int(round(MNIST_CENTRE[0] - cy))
    left = int(round(MNIST_CENTRE[1] - cx))
    top = min(max(top, 0), IMAGE_SIZE - height)
    left = min(max(left, 0), IMAGE_SIZE - width)
    out = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    out[top : top + height, left : left + width] = digit
    return out



def naive_resize(image: np.ndarray) -> np.ndarray:
    """The whole canvas squeezed to 28×28, no cropping or centring: what most apps do."""
    resized = Image.fromarray(ink_from_image(image).astype(np.float32)).resize(
        (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS
    )
    return np.clip(np.asarray(resized), 0.0, 1.0)
