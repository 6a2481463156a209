"""Drawing-style training examples: simulated canvas drawings of *training* digits.

mnist_core.drawing_examples makes them (the same ones for the same arguments, cached
on disk); TrainingJob adds them to the training split only; the setting travels in
TrainConfig, the sidebar's link, the saved run, the generated code and the CLI.

Everything here is small: pools of at most a few hundred digits, at most 300
examples, one epoch of the default dense network on 500 images.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile

import numpy as np
import pytest
from job_helpers import TIMEOUT, wait_until

import mnist_core.drawing_examples as examples_module
import mnist_core.runs.train as train_module
from mnist_core.cli import build_parser, main
from mnist_core.codegen import LINE_LENGTH, STYLES, keras_code
from mnist_core.config import MAX_DRAWING_EXAMPLES, ModelConfig, TrainConfig
from mnist_core.data import MnistData, prepare
from mnist_core.drawing_examples import cache_name, drawing_examples
from mnist_core.runs.records import JobStatus
from mnist_core.runs.store import RunStore
from mnist_core.runs.train import EXAMPLES_DIR, TrainingJob
from mnist_core.settings import DRAWING_EXAMPLES, configs, link_parameters, setup_from_link

SMALL = ModelConfig(hidden_units=(16,))  # for runs that are saved, never trained


@pytest.fixture(scope="module")
def pool(mnist):
    """200 real training digits and their labels."""
    return mnist.x_train[:200], mnist.y_train[:200]


@pytest.fixture(scope="module")
def made(pool):
    """40 examples from the pool with seed 5, made once for the tests that only read them."""
    return drawing_examples(*pool, 40, seed=5)


@pytest.fixture(scope="module")
def data(mnist):
    """600 training digits and 200 test digits: evaluation after one epoch stays quick."""
    return MnistData(mnist.x_train[:600], mnist.y_train[:600], mnist.x_test[:200],
                     mnist.y_test[:200], source=mnist.source)


def _cache_files(directory):
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def _unit(images: np.ndarray) -> np.ndarray:
    """Each image as a centred, unit-length vector (for correlations)."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / np.linalg.norm(flat, axis=1, keepdims=True)


# --- 1. The examples themselves ---------------------------------------------------------


def test_examples_are_28x28_uint8_images_with_ink_and_pool_labels(pool, made):
    x, y = made
    assert x.shape == (40, 28, 28) and x.dtype == np.uint8
    assert y.shape == (40,) and y.dtype == pool[1].dtype
    # Every example has ink, and reaches full white as the Draw page's preparation does.
    ink = x.reshape(40, -1)
    assert (ink.max(axis=1) > 200).all()
    # Not the pool's images themselves: these are re-drawn with a round pen.
    assert not any((x[i] == pool[0]).all(axis=(1, 2)).any() for i in range(40))
    assert set(y.tolist()) <= set(pool[1].tolist())


def test_the_same_arguments_give_the_same_examples(pool, made):
    x, y = drawing_examples(*pool, 40, seed=5)
    np.testing.assert_array_equal(x, made[0])
    np.testing.assert_array_equal(y, made[1])


def test_another_seed_gives_other_examples(pool, made):
    x, y = drawing_examples(*pool, 40, seed=6)
    assert not np.array_equal(x, made[0])
    assert not np.array_equal(y, made[1])


def test_each_label_is_that_of_the_digit_drawn(pool):
    """Labels are the pool's indices here: each example must look most like the pool
    digit its label names (chance would be 1 in 20)."""
    digits = pool[0][:20]
    x, y = drawing_examples(digits, np.arange(20), 60, seed=3)
    assert set(y.tolist()) <= set(range(20))
    nearest = (_unit(x) @ _unit(digits).T).argmax(axis=1)
    assert (nearest == y).mean() > 0.6


def test_a_pool_of_one_digit_gives_only_that_label(pool):
    sevens = pool[0][pool[1] == 7]
    x, y = drawing_examples(sevens, np.full(len(sevens), 7, np.uint8), 30, seed=1)
    assert len(x) == 30 and (y == 7).all()


def test_the_label_mix_follows_the_pool(pool):
    """Digits are picked evenly from the pool: with a pool that is 3/4 ones, so are the labels."""
    x_pool, y_pool = pool
    ones, twos = x_pool[y_pool == 1][:15], x_pool[y_pool == 2][:5]
    x, y = drawing_examples(np.concatenate([ones, twos]),
                            np.array([1] * len(ones) + [2] * len(twos), np.uint8), 120, seed=2)
    assert set(y.tolist()) == {1, 2}
    assert 0.6 < (y == 1).mean() < 0.9


def test_more_examples_than_pool_digits_reuse_digits(pool):
    x, y = drawing_examples(pool[0][:4], pool[1][:4], 12, seed=0)
    assert x.shape == (12, 28, 28) and set(y.tolist()) <= set(pool[1][:4].tolist())


@pytest.mark.parametrize("count", [0, -3])
def test_no_examples_are_empty_arrays_and_no_file(pool, tmp_path, count):
    x, y = drawing_examples(*pool, count, cache_dir=tmp_path)
    assert x.shape == (0, 28, 28) and x.dtype == np.uint8
    assert y.shape == (0,) and y.dtype == pool[1].dtype
    assert _cache_files(tmp_path) == []


def test_progress_is_reported_rising_to_the_count(pool, monkeypatch):
    monkeypatch.setattr(examples_module, "CHUNK", 7)
    reports = []
    drawing_examples(*pool, 20, seed=4, on_progress=lambda done, wanted: reports.append(
        (done, wanted)))
    assert reports == [(7, 20), (14, 20), (20, 20)]


# --- 2. The cache -----------------------------------------------------------------------


def _no_making(*args, **kwargs):
    raise AssertionError("made again instead of read from the cache")


def test_the_first_call_writes_one_file_the_second_reads_it(pool, made, tmp_path, monkeypatch):
    cache = tmp_path / "cache"  # made when needed
    x, y = drawing_examples(*pool, 40, seed=5, cache_dir=cache)
    assert _cache_files(cache) == [cache_name(*pool, 40, 5)]
    np.testing.assert_array_equal(x, made[0])  # caching changes nothing
    monkeypatch.setattr(examples_module, "_make", _no_making)
    reports = []
    again = drawing_examples(*pool, 40, seed=5, cache_dir=cache,
                             on_progress=lambda *report: reports.append(report))
    np.testing.assert_array_equal(again[0], x)
    np.testing.assert_array_equal(again[1], y)
    assert again[0].dtype == np.uint8 and again[1].dtype == y.dtype
    assert _cache_files(cache) == [cache_name(*pool, 40, 5)]


def test_the_cache_name_changes_with_everything_that_decides_the_examples(pool):
    x_pool, y_pool = pool
    names = {
        cache_name(x_pool, y_pool, 60, 5),
        cache_name(x_pool, y_pool, 61, 5),
        cache_name(x_pool, y_pool, 60, 6),
        cache_name(x_pool[:199], y_pool[:199], 60, 5),
        cache_name(x_pool[::-1], y_pool[::-1], 60, 5),
        cache_name(x_pool, np.roll(y_pool, 1), 60, 5),
        cache_name(np.where(x_pool == 0, 1, x_pool).astype(np.uint8), y_pool, 60, 5),
    }
    assert len(names) == 7
    assert cache_name(x_pool.copy(), y_pool.copy(), 60, 5) == cache_name(x_pool, y_pool, 60, 5)
    assert all(re.fullmatch(r"drawing-examples-6[01]-[0-9a-f]{16}\.npz", name) for name in names)


def test_other_arguments_make_their_own_file(pool, made, tmp_path):
    drawing_examples(*pool, 40, seed=5, cache_dir=tmp_path)
    x, _ = drawing_examples(*pool, 40, seed=6, cache_dir=tmp_path)
    assert not np.array_equal(x, made[0])  # not the other seed's file read back
    assert _cache_files(tmp_path) == sorted([cache_name(*pool, 40, 5), cache_name(*pool, 40, 6)])


def _garbage(good: bytes) -> bytes:
    return b"not an npz file at all" * 10


def _wrong_arrays(good: bytes) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, images=np.zeros(3))
    return buffer.getvalue()


def _truncated(good: bytes) -> bytes:
    return good[: len(good) // 2]


def _empty(good: bytes) -> bytes:
    return b""


def _bit_flipped(good: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        start = archive.getinfo("x.npy").header_offset + 200  # inside x's stored bytes
    return good[:start] + bytes([good[start] ^ 0xFF]) + good[start + 1:]


@pytest.mark.parametrize("damage", [
    _garbage,
    _wrong_arrays,
    _truncated,
    _empty,
    _bit_flipped,
])
def test_a_damaged_cache_file_is_made_again(pool, made, tmp_path, monkeypatch, damage):
    drawing_examples(*pool, 40, seed=5, cache_dir=tmp_path)
    path = tmp_path / cache_name(*pool, 40, 5)
    path.write_bytes(damage(path.read_bytes()))
    calls = []
    real_make = examples_module._make
    monkeypatch.setattr(examples_module, "_make",
                        lambda *args: calls.append(1) or real_make(*args))
    x, y = drawing_examples(*pool, 40, seed=5, cache_dir=tmp_path)
    assert calls == [1]
    np.testing.assert_array_equal(x, made[0])
    np.testing.assert_array_equal(y, made[1])
    with np.load(path) as saved:  # and the file is whole again
        np.testing.assert_array_equal(saved["x"], made[0])


def test_a_cache_that_cannot_be_written_still_gives_the_examples(pool, made, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("the cache directory cannot be made here")
    x, y = drawing_examples(*pool, 40, seed=5, cache_dir=blocked / "cache")
    np.testing.assert_array_equal(x, made[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


# --- 3. In a training: the training split only --------------------------------------------

N, SPLIT, K, BATCH = 500, 0.2, 200, 64
CUT = math.floor(N * (1 - SPLIT))  # 400: Keras' own split of the first N images


class _Spy:
    """Records the pool each drawing_examples call gets and what it gives back."""

    def __init__(self, monkeypatch, on_report=None):
        self.calls: list[dict] = []
        real = train_module.drawing_examples

        def spy(x_pool, y_pool, count, seed=0, cache_dir=None, on_progress=None):
            call = {"x_pool": x_pool, "y_pool": y_pool, "count": count,
                    "cache_dir": cache_dir, "reports": []}
            self.calls.append(call)

            def report(done, wanted):
                call["reports"].append((done, wanted))
                if on_report is not None:
                    on_report(done, wanted)
                on_progress(done, wanted)
                call.setdefault("progress", []).append(self.job.progress())

            call["before"] = self.job.progress()
            call["result"] = real(x_pool, y_pool, count, seed, cache_dir, report)
            return call["result"]

        monkeypatch.setattr(train_module, "drawing_examples", spy)
        self.job: TrainingJob | None = None


def _record_fit(job: TrainingJob) -> dict:
    seen: dict = {}
    real_fit = job.model.fit

    def fit(x, y, **kwargs):
        seen.update(x=x, y=y, kwargs=kwargs)
        return real_fit(x, y, **kwargs)

    job.model.fit = fit
    return seen


def _job(data, examples_dir, drawing=K, split=SPLIT) -> TrainingJob:
    return TrainingJob(data, ModelConfig(), TrainConfig(
        epochs=1, batch_size=BATCH, train_size=N, validation_split=split,
        drawing_examples=drawing), examples_dir=examples_dir)


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """One real 1-epoch run with 200 drawing-style examples: what it drew from, what fit got."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(examples_module, "CHUNK", 50)  # four reports
    spy = _Spy(monkeypatch)
    examples_dir = tmp_path_factory.mktemp("examples")
    job = spy.job = _job(data, examples_dir)
    seen = _record_fit(job)
    before = job.progress()
    try:
        job.run()
    finally:
        monkeypatch.undo()
    return job, spy.calls, seen, before, examples_dir


def test_the_examples_are_drawn_from_the_training_part_only(data, trained):
    job, calls, _, _, examples_dir = trained
    assert job.progress().status == JobStatus.FINISHED, job.progress().error
    assert len(calls) == 1 and calls[0]["count"] == K
    np.testing.assert_array_equal(calls[0]["x_pool"], data.x_train[:CUT])
    np.testing.assert_array_equal(calls[0]["y_pool"], data.y_train[:CUT])
    assert calls[0]["cache_dir"] == examples_dir


def test_validation_is_exactly_the_last_images_and_training_has_the_examples(data, trained):
    _, calls, seen, _, _ = trained
    kwargs = seen["kwargs"]
    # A validation_split here would carve Keras' validation out of the examples too.
    assert "validation_split" not in kwargs
    x_val, y_val = kwargs["validation_data"]
    x_expected, y_expected = prepare(data.x_train[CUT:N], data.y_train[CUT:N])
    np.testing.assert_array_equal(x_val, x_expected)
    np.testing.assert_array_equal(y_val, y_expected)
    x_drawn, y_drawn = calls[0]["result"]
    x_train, y_train = prepare(np.concatenate([data.x_train[:CUT], x_drawn]),
                               np.concatenate([data.y_train[:CUT], y_drawn]))
    assert len(seen["x"]) == CUT + K
    np.testing.assert_array_equal(seen["x"], x_train)
    np.testing.assert_array_equal(seen["y"], y_train)
    # No example is in the validation data.
    drawn = {row.tobytes() for row in prepare(x_drawn, y_drawn)[0]}
    assert not drawn & {row.tobytes() for row in x_val}


def test_each_epoch_has_the_batches_of_training_images_plus_examples(trained):
    job, _, _, _, _ = trained
    progress = job.progress()
    assert progress.batches_per_epoch == math.ceil((CUT + K) / BATCH) == 10
    assert progress.batch == progress.batches_per_epoch
    assert len(progress.history) == 1
    assert progress.history[0].val_accuracy is not None  # validated on the last 100 images
    assert progress.test_accuracy is not None


def test_progress_says_when_examples_are_being_made(trained):
    job, calls, _, before, _ = trained
    assert before.status == JobStatus.QUEUED and not before.making_examples
    assert before.drawing_examples == K and before.examples_made == 0
    first = calls[0]["before"]  # running, nothing made yet
    assert first.status == JobStatus.RUNNING and first.epoch == 0
    assert first.making_examples and first.examples_made == 0
    reports = calls[0]["reports"]
    assert reports == [(50, K), (100, K), (150, K), (K, K)]
    assert [done for done, _ in reports] == sorted({done for done, _ in reports})
    made = [(p.examples_made, p.making_examples) for p in calls[0]["progress"]]
    assert made == [(done, done < K) for done, _ in reports]
    end = job.progress()
    assert end.examples_made == K and end.drawing_examples == K and not end.making_examples


def test_the_examples_are_kept_and_read_back_by_the_next_run(data, trained, monkeypatch):
    _, calls, _, _, examples_dir = trained
    x_pool, y_pool = data.x_train[:CUT], data.y_train[:CUT]
    assert _cache_files(examples_dir) == [cache_name(x_pool, y_pool, K, 0)]
    monkeypatch.setattr(examples_module, "_make", _no_making)
    spy = _Spy(monkeypatch)
    job = spy.job = _job(data, examples_dir)
    job.run()
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED, progress.error
    assert spy.calls[0]["reports"] == []  # nothing made
    np.testing.assert_array_equal(spy.calls[0]["result"][0], calls[0]["result"][0])
    assert progress.examples_made == K and not progress.making_examples


def test_a_run_whose_kept_examples_are_damaged_still_trains(data, tmp_path):
    """A file cut short (a crash before the disk caught up) is made again, not a failed run."""
    path = tmp_path / cache_name(data.x_train[:CUT], data.y_train[:CUT], 20, 0)
    drawing_examples(data.x_train[:CUT], data.y_train[:CUT], 20, cache_dir=tmp_path)
    path.write_bytes(_truncated(path.read_bytes()))  # e.g. a crash before the disk caught up
    job = _job(data, tmp_path, drawing=20)
    job.run()
    assert job.progress().status == JobStatus.FINISHED, job.progress().error


def test_without_examples_the_classic_validation_split_is_unchanged(data, monkeypatch):
    monkeypatch.setattr(train_module, "drawing_examples", _no_making)
    job = _job(data, None, drawing=0)
    seen = _record_fit(job)
    job.run()
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED, progress.error
    assert seen["kwargs"]["validation_split"] == SPLIT
    assert "validation_data" not in seen["kwargs"]
    x_all, y_all = prepare(data.x_train[:N], data.y_train[:N])
    np.testing.assert_array_equal(seen["x"], x_all)
    np.testing.assert_array_equal(seen["y"], y_all)
    assert progress.batches_per_epoch == math.ceil(CUT / BATCH) == 7
    assert progress.drawing_examples == 0 and progress.examples_made == 0
    assert not progress.making_examples


def test_with_no_validation_all_images_are_the_pool_and_nothing_validates(data, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(examples_module, "CHUNK", 1000)
    spy = _Spy(monkeypatch)
    job = spy.job = _job(data, tmp_path, drawing=50, split=0.0)
    seen = _record_fit(job)
    job.run()
    progress = job.progress()
    assert progress.status == JobStatus.FINISHED, progress.error
    np.testing.assert_array_equal(spy.calls[0]["x_pool"], data.x_train[:N])
    assert seen["kwargs"].get("validation_data") is None
    assert "validation_split" not in seen["kwargs"]
    assert len(seen["x"]) == N + 50
    assert progress.history[0].val_loss is None


# --- 4. Stopping while the examples are being made ------------------------------------------


def test_a_stop_while_making_examples_ends_the_run_before_any_epoch(data, tmp_path, monkeypatch):
    monkeypatch.setattr(examples_module, "CHUNK", 20)
    spy = _Spy(monkeypatch, on_report=lambda done, wanted: spy.job.stop())
    job = spy.job = _job(data, tmp_path, drawing=100)
    seen = _record_fit(job)
    job.run()
    progress = job.progress()
    assert progress.status == JobStatus.STOPPED
    assert spy.calls[0]["reports"] == [(20, 100)]  # stopped at the first report
    assert progress.examples_made == 20 and not progress.making_examples
    assert progress.epoch == 0 and progress.history == () and job.snapshots() == ()
    assert progress.test_accuracy is None and progress.error is None
    assert seen == {}  # fit never ran
    assert _cache_files(tmp_path) == []  # a part of the examples is never kept as all of them


def test_stop_from_another_thread_while_making_examples(data, tmp_path, monkeypatch):
    """As the Train page does: start, see the examples being made, press Stop."""
    monkeypatch.setattr(examples_module, "CHUNK", 10)
    job = _job(data, tmp_path, drawing=300)
    job.start()
    seen = wait_until(job, lambda p: p.making_examples and p.examples_made > 0)
    job.stop()
    job.join(TIMEOUT)
    progress = job.progress()
    assert seen.status == JobStatus.RUNNING and seen.epoch == 0
    assert progress.status == JobStatus.STOPPED
    assert 0 < progress.examples_made < 300
    assert progress.epoch == 0 and progress.history == ()
    assert _cache_files(tmp_path) == []


# --- 5. The setting: config, link, saved runs -----------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 5_000, MAX_DRAWING_EXAMPLES])
def test_train_config_keeps_drawing_examples_through_a_dict_and_json(count):
    config = TrainConfig(drawing_examples=count)
    assert config.to_dict()["drawing_examples"] == count
    assert TrainConfig(**config.to_dict()) == config
    assert TrainConfig(**json.loads(json.dumps(config.to_dict()))) == config


def test_train_config_has_no_examples_by_default():
    assert TrainConfig().drawing_examples == 0


@pytest.mark.parametrize("count", [-1, MAX_DRAWING_EXAMPLES + 1, 10**9])
def test_train_config_refuses_out_of_range_examples_in_words(count):
    with pytest.raises(ValueError, match=f"drawing-style examples must be 0–{MAX_DRAWING_EXAMPLES:,}"):
        TrainConfig(drawing_examples=count)


def test_every_offered_choice_is_allowed_and_zero_is_offered():
    assert DRAWING_EXAMPLES[0] == 0 and list(DRAWING_EXAMPLES) == sorted(DRAWING_EXAMPLES)
    for count in DRAWING_EXAMPLES:
        assert TrainConfig(drawing_examples=count).drawing_examples == count


def test_a_link_gives_the_number_of_examples():
    assert setup_from_link({"drawing_examples": "15000"}) == ({"drawing_examples": 15000}, [])
    assert setup_from_link({"drawing_examples": " 5000 "}) == ({"drawing_examples": 5000}, [])


@pytest.mark.parametrize("text, value", [
    ("12000", 15_000), ("9000", 5_000), ("100000", 30_000), ("-5", 0), ("1", 0),
])
def test_an_unoffered_number_is_the_nearest_choice_with_a_message(text, value):
    values, messages = setup_from_link({"drawing_examples": text})
    assert values == {"drawing_examples": value}
    assert messages == [f"drawing_examples: {float(text):g} is not offered; using {value}."]


def test_a_link_value_that_is_no_number_is_ignored_with_a_message():
    assert setup_from_link({"drawing_examples": "lots"}) == (
        {}, ["drawing_examples: 'lots' is not a number; ignored."])


def test_the_link_names_examples_only_when_there_are_some():
    assert "drawing_examples" not in link_parameters({"drawing_examples": 0})
    for count in DRAWING_EXAMPLES[1:]:
        parameters = link_parameters({"drawing_examples": count})
        assert parameters == {"drawing_examples": str(count)}
        assert setup_from_link(parameters) == ({"drawing_examples": count}, [])


def test_the_sidebar_values_reach_the_train_config():
    assert configs({})[1].drawing_examples == 0
    for count in DRAWING_EXAMPLES:
        _, train = configs({"drawing_examples": count, "epochs": 3})
        assert train.drawing_examples == count and train.epochs == 3


def test_a_saved_run_loads_back_with_its_examples(data, tmp_path):
    store = RunStore(tmp_path)
    train_config = TrainConfig(epochs=1, train_size=500, drawing_examples=15_000)
    job = TrainingJob(data, SMALL, train_config, store=store)
    assert job.examples_dir() == tmp_path / EXAMPLES_DIR  # beside the runs
    job.stop()  # still queued: cancelled and saved, never trained
    config_file = tmp_path / job.run_id / "config.json"
    assert json.loads(config_file.read_text())["train"]["drawing_examples"] == 15_000
    assert store.load(job.run_id).train_config == train_config

    # A run saved before the setting existed has no such key: it had no examples.
    saved = json.loads(config_file.read_text())
    del saved["train"]["drawing_examples"]
    config_file.write_text(json.dumps(saved))
    assert store.load(job.run_id).train_config == TrainConfig(epochs=1, train_size=500)


def test_the_examples_folder_beside_the_runs_is_never_listed_as_a_run(data, pool, tmp_path):
    store = RunStore(tmp_path)
    job = TrainingJob(data, SMALL, TrainConfig(epochs=1, train_size=500), store=store)
    job.stop()
    drawing_examples(*pool, 5, cache_dir=job.examples_dir())
    assert _cache_files(tmp_path / EXAMPLES_DIR) == [cache_name(*pool, 5, 0)]
    assert [run.run_id for run in store.list_runs()] == [job.run_id]
    explicit = tmp_path / "elsewhere"
    assert TrainingJob(data, SMALL, store=store, examples_dir=explicit).examples_dir() == explicit
    assert TrainingJob(data, SMALL).examples_dir() is None


# --- 6. Generated code and the command line ------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("model", [ModelConfig(), ModelConfig(architecture="cnn")],
                         ids=["dense", "cnn"])
def test_generated_code_says_it_leaves_the_examples_out_only_when_there_are_some(style, model):
    plain = keras_code(model, TrainConfig(), style)
    assert "Left out" not in plain and "drawing-style" not in plain
    code = keras_code(model, TrainConfig(drawing_examples=5_000), style)
    assert "# Left out: the app adds 5000 drawing-style examples" in code
    assert "mnist_core.drawing_examples" in code
    compile(code, f"<{style}>", "exec")
    assert all(len(line) <= LINE_LENGTH for line in code.splitlines())
    # The comment is all that changes: the script trains exactly as before.
    code_lines = [line for line in code.splitlines() if not line.startswith("#")]
    plain_lines = [line for line in plain.splitlines() if not line.startswith("#")]
    assert [line for line in code_lines if line] == [line for line in plain_lines if line]


def test_train_help_lists_drawing_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--drawing-examples N" in text
    assert f"0–{MAX_DRAWING_EXAMPLES:,}" in text and "(default: 0)" in text


def test_the_option_sets_the_count():
    assert build_parser().parse_args(["train"]).drawing_examples == 0
    args = build_parser().parse_args(["train", "--drawing-examples", "200"])
    assert args.drawing_examples == 200


@pytest.mark.parametrize("count", [str(MAX_DRAWING_EXAMPLES + 1), "-1"])
def test_an_out_of_range_count_exits_2_in_one_line(capsys, count):
    assert main(["train", "--drawing-examples", count, "--no-save"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"Error: drawing-style examples must be 0–{MAX_DRAWING_EXAMPLES:,}\n"
    assert captured.out == ""


def test_a_count_that_is_no_number_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--drawing-examples", "many"])
    assert exit_info.value.code == 2
    assert "--drawing-examples" in capsys.readouterr().err


def test_cli_trains_with_examples_and_keeps_them_beside_the_runs(tmp_path, capsys):
    runs = tmp_path / "runs"
    status = main(["train", "--train-size", "500", "--epochs", "1", "--drawing-examples",
                   "200", "--validation-split", "0.2", "--runs-dir", str(runs)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Images: 400 to train on plus 200 drawing-style examples, 100 held out" in out
    assert len(_cache_files(runs / EXAMPLES_DIR)) == 1
    [run] = RunStore(runs).list_runs()
    assert RunStore(runs).load(run.run_id).train_config.drawing_examples == 200
    assert run.status == "finished"
