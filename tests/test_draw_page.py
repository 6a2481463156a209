"""AppTest tests of the Draw page's newer parts: uploading a picture, the verdict, and
labelling drawings into "My drawings" with its download.

The canvas's JavaScript never runs under AppTest, so drawings are injected through the
canvas's session-state key (as in test_app.py). Uploads go through AppTest's own
file_uploader support. One quick training serves every test that needs a model: each
test opens its own session and attaches to that run by its `?run=` id, as a reload would.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from apptest_helpers import (
    app_at,
    app_with_run,
    canvas_key,
    canvas_state,
    drawn_digit,
    job_of,
    wait_for_training,
)
from PIL import Image
from streamlit.testing.v1 import AppTest

DRAW, UPLOAD = "Draw", "Upload a picture"
SEVEN = 0  # mnist.x_test[0] is a 7 that every trained model reads right


# --- Helpers for this page ----------------------------------------------------------------


def encode(array: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(mnist, index: int, shape=(280, 280), box=(0, 0, 280)) -> bytes:
    """A JPEG of the test digit as dark ink on grey (200) paper, with a little noise."""
    top, left, side = box
    big = np.asarray(Image.fromarray(mnist.x_test[index]).resize((side, side)), np.float64)
    strength = np.zeros(shape)
    strength[top : top + side, left : left + side] = big / 255
    picture = 200 - 160 * strength + np.random.default_rng(index).normal(0, 3, shape)
    return encode(np.clip(np.round(picture), 0, 255).astype(np.uint8), "JPEG", quality=90)


def input_switch(at: AppTest):
    """The Draw / Upload segmented control at the top of the canvas column."""
    (switch,) = [s for s in at.segmented_control if s.options == [DRAW, UPLOAD]]
    return switch


def to_upload(at: AppTest) -> AppTest:
    input_switch(at).set_value(UPLOAD).run()
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def metric_help(at: AppTest, label: str) -> str:
    return next(m for m in at.metric if m.label == label).help


def verdicts(at: AppTest) -> list[str]:
    """The verdict alert: "It's a 7." (success) or "Not sure — 7 or 1?" (warning)."""
    sure = [s.value for s in at.success if s.value.startswith("It's a")]
    unsure = [w.value.removeprefix("**") for w in at.warning if "Not sure — " in w.value]
    return sure + unsure


@pytest.fixture(scope="module")
def run_id(mnist) -> str:
    """One quick training from the Draw page itself: 5,000 images, 1 epoch."""
    at = app_at("draw")
    assert any("No model of your own yet" in i.value for i in at.info)
    at.select_slider(key="train_size").set_value(5_000).run()
    next(b for b in at.button if b.label == "Quick train (1 epoch)").click().run()
    job = job_of(at)
    assert job.train_config.epochs == 1 and job.train_config.train_size == 5_000
    wait_for_training(at)
    assert not at.exception
    assert job.progress().status.value == "finished", job.progress().error
    return at.session_state["run_id"]


def attached(run_id: str) -> AppTest:
    """A new session on the Draw page that uses the quick-trained run (a reload with ?run=)."""
    at = app_with_run("draw", run_id)
    assert not at.exception
    assert at.session_state["run_id"] == run_id
    return at


def draw(at: AppTest, canvas: np.ndarray) -> AppTest:
    at.session_state[canvas_key(at)] = canvas_state(canvas)
    return at.run()


# --- Upload, without a model --------------------------------------------------------------


def test_the_input_switch_offers_drawing_and_uploading():
    at = app_at("draw")
    switch = input_switch(at)
    assert switch.value == DRAW
    assert not at.file_uploader
    to_upload(at)
    assert input_switch(at).value == UPLOAD
    (uploader,) = at.file_uploader
    # Any file is taken, so that a wrong one gets a message in words (tested below), not
    # the bare red icon of a file-type filter.
    assert not uploader.allowed_type
    assert not [b for b in at.button if b.label == "Clear"]  # no canvas controls
    input_switch(at).set_value(DRAW).run()
    assert not at.file_uploader
    assert [b for b in at.button if b.label == "Clear"]


def test_an_uploaded_picture_is_shown_and_prepared_without_a_model(mnist):
    at = to_upload(app_at("draw"))
    at.file_uploader[0].upload("seven.jpg", photo(mnist, SEVEN), "image/jpeg").run()
    assert not at.exception
    assert not at.error
    captions = [caption for image in at.image for caption in image.captions]
    assert "seven.jpg" in captions  # the upload itself, under its name
    assert "4 · centred by mass in 28×28: the input" in captions  # what the model sees
    subheaders = [s.value for s in at.subheader]
    assert "Why preparing the drawing matters" in subheaders
    assert "My drawings" in subheaders
    assert at.session_state["drawing"] is not None
    x = at.session_state["drawing"]
    assert x.shape == (28, 28) and 0.9 < x.max() <= 1.0
    # No model of one's own yet: the ready reader reads it, and a quick training is offered.
    assert metrics(at)["Prediction"] == "7"
    assert [b for b in at.button if b.label == "Quick train (1 epoch)"]


def test_without_a_model_or_reader_an_upload_offers_a_quick_training(mnist, without_reader):
    at = to_upload(app_at("draw"))
    at.file_uploader[0].upload("seven.jpg", photo(mnist, SEVEN), "image/jpeg").run()
    assert not at.exception and at.session_state["drawing"] is not None
    assert "Prediction" not in metrics(at)
    assert [b for b in at.button if b.label == "Quick train (1 epoch)"]


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("notes.png", b"these are my notes\n", "notes.png is not a picture"),
        ("empty.png", b"", "empty.png is empty"),
        ("cut.jpg", None, "cut.jpg could not be read"),
    ],
    ids=["text-renamed", "empty", "truncated-jpeg"],
)
def test_an_unreadable_upload_shows_an_error_naming_the_file(name, data, words):
    if data is None:
        noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
        data = encode(noise, "JPEG")[:2000]
    at = to_upload(app_at("draw"))
    at.file_uploader[0].upload(name, data, "image/png").run()
    assert not at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["drawing"] is None


def test_a_blank_upload_is_nothing_drawn():
    at = to_upload(app_at("draw"))
    blank = encode(np.full((200, 300), 230, np.uint8), "PNG")
    at.file_uploader[0].upload("blank.png", blank, "image/png").run()
    assert not at.exception and not at.error
    assert at.session_state["drawing"] is None
    assert "Why preparing the drawing matters" not in [s.value for s in at.subheader]
    assert any("this picture looks blank" in w.value for w in at.warning)
    assert not any("Draw a digit on the canvas" in i.value for i in at.info)


def test_a_file_that_is_no_picture_is_refused_in_words_and_the_next_one_clears_it(mnist):
    """Any file can be chosen (a type filter showed only a red icon); a PDF is refused
    with a sentence naming it, and a good picture after it leaves no error behind."""
    at = to_upload(app_at("draw"))
    at.file_uploader[0].upload("scan.pdf", b"%PDF-1.4 not a picture", "application/pdf").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "scan.pdf is not a picture this app can read: use a PNG or JPEG file."]
    at.file_uploader[0].upload("seven.jpg", photo(mnist, SEVEN), "image/jpeg").run()
    assert not at.exception
    assert not at.error
    assert at.session_state["drawing"] is not None


def thick_pen_hints(at: AppTest) -> list[str]:
    return [i.value for i in at.info if i.value.startswith("Thick strokes")]


def test_a_fat_pen_on_a_small_digit_shows_the_thick_pen_hint(mnist):
    from mnist_core.drawings import DrawingStyle, draw_digit

    at = app_at("draw")
    draw(at, drawn_digit(mnist, SEVEN))  # large, MNIST-like strokes
    assert not at.exception
    assert not thick_pen_hints(at)
    small_and_fat = DrawingStyle(height_fraction=0.3, pen_width=28, rotation_degrees=0.0,
                                 position=(0.5, 0.5))
    draw(at, draw_digit(mnist.x_test[SEVEN], small_and_fat))
    assert not at.exception
    (hint,) = thick_pen_hints(at)
    assert "Draw it larger, or with a thinner pen" in hint


def test_an_upload_written_with_a_fat_marker_gets_the_hint_in_its_words(mnist):
    from mnist_core.drawings import DrawingStyle, draw_digit

    small_and_fat = DrawingStyle(height_fraction=0.3, pen_width=28, rotation_degrees=0.0,
                                 position=(0.5, 0.5))
    ink = draw_digit(mnist.x_test[SEVEN], small_and_fat)[..., 3]
    at = to_upload(app_at("draw"))
    at.file_uploader[0].upload("marker.png", encode(255 - ink, "PNG"), "image/png").run()
    assert not at.exception and not at.error
    (hint,) = thick_pen_hints(at)
    assert "Write it larger, or with a thinner pen" in hint


# --- With the quick-trained model -----------------------------------------------------------


def test_an_uploaded_photo_is_read_with_a_verdict(run_id, mnist):
    at = to_upload(attached(run_id))
    at.file_uploader[0].upload("seven.jpg", photo(mnist, SEVEN), "image/jpeg").run()
    assert not at.exception
    assert metrics(at)["Prediction"] == "7"
    assert len(verdicts(at)) == 1
    assert verdicts(at)[0] in ("It's a 7.",) or verdicts(at)[0].startswith("Not sure — 7 or ")


def test_a_landscape_photo_upload_is_read(run_id, mnist):
    at = to_upload(attached(run_id))
    landscape = photo(mnist, SEVEN, shape=(300, 400), box=(40, 60, 220))
    at.file_uploader[0].upload("phone.jpg", landscape, "image/jpeg").run()
    assert not at.exception, at.exception
    assert metrics(at)["Prediction"] == "7"


def test_the_verdict_appears_with_a_prediction(run_id, mnist):
    at = attached(run_id)
    assert not verdicts(at)  # nothing drawn, nothing to judge
    draw(at, drawn_digit(mnist, SEVEN))
    assert not at.exception
    assert metrics(at)["Prediction"] == "7"
    (verdict,) = verdicts(at)
    assert verdict == "It's a 7." or verdict.startswith("Not sure — 7 or ")
    assert "nudged" in metric_help(at, "Prediction")  # the rule, in the tooltip
    assert not any("nudged" in c.value for c in at.caption)  # not under every prediction


def test_a_scribble_gets_a_verdict_too(run_id):
    from mnist_core.drawings import draw_scribble

    at = draw(attached(run_id), draw_scribble(np.random.default_rng(4)))
    assert not at.exception
    assert "Prediction" in metrics(at)
    assert len(verdicts(at)) == 1


# --- Labelling drawings: "Keep it", the summary, the download, "Forget them" ---------------


@pytest.fixture
def downloads(monkeypatch) -> dict[str, tuple[bytes, str, str | None]]:
    """The files the app hands to download buttons, by URL (AppTest keeps no media files)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    files: dict[str, tuple[bytes, str, str | None]] = {}
    add = MediaFileManager.add

    def recording_add(self, path_or_data, mimetype, coordinates, file_name=None,
                      is_for_static_download=False):
        url = add(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)
        if is_for_static_download:
            files[url] = (path_or_data, mimetype, file_name)
        return url

    monkeypatch.setattr(MediaFileManager, "add", recording_add)
    return files


def keep(at: AppTest, label: int) -> AppTest:
    """Choose the label and press Keep it: one form, sent by the button."""
    at.selectbox(key="drawing_label").set_value(label)
    next(b for b in at.button if b.label == "Keep it").click().run()
    assert not at.exception
    return at


def test_keep_it_labels_a_drawing_and_offers_the_set_for_download(run_id, mnist, downloads):
    at = attached(run_id)
    assert any("Label a drawing and keep it" in c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Keep it"]  # nothing drawn yet

    draw(at, drawn_digit(mnist, SEVEN))
    assert metrics(at)["Prediction"] == "7"
    label = at.selectbox(key="drawing_label")
    assert label.label == "This drawing is a" and list(label.options) == [str(d) for d in range(10)]
    keep(at, 7)

    assert len(at.session_state["my_drawings"]) == 1
    assert any("Kept as a 7" in t.value for t in at.toast)
    shown = metrics(at)
    assert shown["My drawings"] == "1"
    assert shown["Accuracy on my drawings"] == "100%"
    assert shown["On the MNIST test set"].endswith("%")

    (button,) = at.download_button
    assert button.label == "Download (.npz)"
    data, mimetype, file_name = downloads[button.proto.url]
    assert file_name == "my_drawings.npz" and mimetype == "application/octet-stream"
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert sorted(npz.files) == ["x", "y"]
        x, y = npz["x"], npz["y"]
    assert x.shape == (1, 28, 28) and x.dtype == np.uint8
    assert y.tolist() == [7] and y.dtype == np.uint8
    kept = at.session_state["my_drawings"][0][0]
    np.testing.assert_array_equal(x[0], np.round(kept * 255).astype(np.uint8))
    assert x.max() == 255 and x[0, 0, 0] == 0  # white digit on black, like MNIST


def test_a_wrong_label_counts_against_the_model_and_forget_empties_the_set(
    run_id, mnist, downloads
):
    at = attached(run_id)
    draw(at, drawn_digit(mnist, SEVEN))
    keep(at, 7)
    keep(at, 3)  # the same 7 again, mislabelled on purpose
    shown = metrics(at)
    assert shown["My drawings"] == "2"
    assert shown["Accuracy on my drawings"] == "50%"
    data, _, _ = downloads[at.download_button[0].proto.url]
    with np.load(io.BytesIO(data)) as npz:
        assert npz["x"].shape == (2, 28, 28)
        assert npz["y"].tolist() == [7, 3]

    next(b for b in at.button if b.label == "Forget them").click().run()
    assert not at.exception
    assert at.session_state["my_drawings"] == []
    assert "My drawings" not in metrics(at)
    assert not at.download_button
    assert any("Label a drawing and keep it" in c.value for c in at.caption)


def test_kept_drawings_survive_clearing_the_canvas(run_id, mnist):
    at = attached(run_id)
    draw(at, drawn_digit(mnist, SEVEN))
    keep(at, 7)
    next(b for b in at.button if b.label == "Clear").click().run()
    assert at.session_state["drawing"] is None
    assert metrics(at)["My drawings"] == "1"
    assert not [b for b in at.button if b.label == "Keep it"]
