"""The ready reader shipped with the app (models/reader.keras), as every session sees it.

A session without a model of its own reads its drawings, and sees the Evaluate and
Inside pages, with the reader; with a model of its own, the Draw page shows the
reader's answer beside it as a yardstick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from mnist_core.model_file import ModelFileError
from mnist_core.reader import ReaderInfo, load_reader, read_info
from ui.server import mnist
from ui.session import model_job, snapshot_model

if TYPE_CHECKING:
    from mnist_core.runs.train import TrainingJob

READER_ID = "reader"  # not a run id (those have 8 characters), so never one of the runs


@dataclass(frozen=True)
class Reader:
    """The ready reader as a finished run, and what its JSON says."""

    job: TrainingJob
    info: ReaderInfo

    @property
    def words(self) -> str:
        return f"the ready reader, which reads {self.info.summary}"


@st.cache_resource(show_spinner=False)
def ready_reader() -> Reader | None:
    """The ready reader every session can read with, or None where its files are missing
    or refused: then the app asks for a training first, as without it.

    Loaded in the background once a server's first page has answered (ui.warmup), so
    no spinner: a spinner drawn from that thread would land on whatever page the
    session that started it shows by then.
    """
    from mnist_core.runs.train import TrainingJob  # TensorFlow: not for pages without a model

    try:
        info = read_info()
        job = TrainingJob.imported(mnist(), load_reader(), "the ready reader",
                                   test=(info.test_loss, info.test_accuracy),
                                   origin="shipped with the app")
    except (OSError, ValueError, KeyError, ModelFileError):
        return None
    job.run_id = READER_ID
    return Reader(job, info)


def is_reader(job: TrainingJob | None) -> bool:
    return job is not None and job.run_id == READER_ID


def reading_job() -> TrainingJob | None:
    """The run this session draws with, else the ready reader's job, else None."""
    job = model_job()
    if job is None and (ready := ready_reader()) is not None:
        return ready.job
    return job


def model_or_reader():
    """`snapshot_model()`, else the ready reader as (model, 1, its job), else None.

    For views that show a network whatever the session has trained (Evaluate, Inside).
    """
    found = snapshot_model()
    ready = ready_reader() if found is None else None
    return found if ready is None else (ready.job.model, 1, ready.job)
