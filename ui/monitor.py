"""A run's live progress, metrics and charts, refreshed while it trains.

The Train page shows the whole monitor; the Draw page shows its progress bar while a
first model trains. Each part is an `st.fragment` that reruns on its own timer, so
that polling a training redraws these elements, not the page.
"""

from __future__ import annotations

import streamlit as st

from mnist_core.figures.training import history_figure
from mnist_core.runs.records import JobStatus
from ui.formats import PERCENT, shown_as_rounded
from ui.layout import pair
from ui.server import runs
from ui.session import current_job, is_active

POLL_SECONDS = 1.0
CHART_POLL_SECONDS = 3.0
# Short headers, so that the table fits a laptop's narrow column; the tooltips say more.
HISTORY_COLUMNS = {
    "epoch": st.column_config.NumberColumn("Epoch"),
    "loss": st.column_config.NumberColumn("Loss", format="%.4f",
                                          help="Training loss: categorical cross-entropy"),
    "accuracy": st.column_config.NumberColumn("Accuracy", help="Training accuracy", **PERCENT),
    "val_loss": st.column_config.NumberColumn("Val. loss", format="%.4f",
                                              help="Loss on the validation images"),
    "val_accuracy": st.column_config.NumberColumn("Val. accuracy", **PERCENT,
                                                  help="Accuracy on the validation images"),
    "seconds": st.column_config.NumberColumn("Seconds", format="%.1f"),
    "samples_per_second": st.column_config.NumberColumn("Images/s", format="localized",
                                                        step=1, help="Training images per second"),
}


def training_monitor() -> None:
    """Progress of this session's run, with charts, refreshed while the run is active.

    The progress bar and figures refresh every POLL_SECONDS; the charts, which cost
    the browser far more to redraw, every CHART_POLL_SECONDS.
    """
    job = current_job()
    if job is None:
        return
    polling = is_active(job)
    st.fragment(run_every=POLL_SECONDS if polling else None)(_progress)(job, polling)
    st.fragment(run_every=CHART_POLL_SECONDS if polling else None)(_charts)(job)


def _progress(job, polling: bool) -> None:
    progress = job.progress()
    if polling and progress.status.is_done:
        st.rerun()  # the whole app: the sidebar, charts and the Draw page see the outcome
    if job.problem:
        st.warning(job.problem, icon=":material/cloud_off:")
    if progress.status == JobStatus.QUEUED:
        st.info(f"{_waiting_for(job)} Stop cancels it.", icon=":material/hourglass_top:")
        return
    if progress.status == JobStatus.RUNNING:
        progress_bar(progress)
    _metrics(progress)
    _outcome(progress)
    if progress.save_error:
        st.warning(f"{progress.save_error} Training goes on; the run may be lost when the "
                   "server stops.", icon=":material/save:")


def _waiting_for(job) -> str:
    registry = runs()
    if registry.cluster is not None:
        return (f"Waiting for the Ray cluster to start it: a worker with "
                f"{registry.cluster.settings.cpus:g} free CPUs.")
    return (f"Waiting for a free training slot: number {registry.queue_position(job.run_id)} "
            f"in the queue (this server trains {registry.max_concurrent} model(s) at a time).")


def _charts(job) -> None:
    progress = job.progress()
    if progress.status == JobStatus.QUEUED:
        return
    loss_column, accuracy_column = pair("loss_chart", "accuracy_chart")
    for column, metric in ((loss_column, "loss"), (accuracy_column, "accuracy")):
        column.plotly_chart(
            history_figure(progress.history, metric, progress.epochs,
                           progress.batch_history, progress.batches_per_epoch),
            width="stretch",
        )
    if progress.history:
        st.dataframe(shown_as_rounded(progress.history_rows()), hide_index=True, width="stretch",
                     column_config=HISTORY_COLUMNS, placeholder="—")
        if progress.stopped_mid_epoch and len(progress.history) == progress.epoch:
            st.caption(f"Epoch {progress.epoch} was stopped after {progress.batch:,} of its "
                       f"{progress.batches_per_epoch:,} batches: its row covers those.")


def progress_bar(progress) -> None:
    if progress.making_examples:  # before the first epoch, the first time only
        st.progress(progress.examples_made / progress.drawing_examples, text=(
            f"Making the drawing-style examples: {progress.examples_made:,} of "
            f"{progress.drawing_examples:,} (the first time only; they are kept)"))
        return
    st.progress(progress.fraction_done, text=_progress_text(progress))


def _progress_text(progress) -> str:
    if not progress.epoch:
        return "Preparing the data and the model…"
    text = (f"Training: epoch {progress.epoch}/{progress.epochs}, "
            f"batch {progress.batch}/{progress.batches_per_epoch}")
    if progress.eta_seconds is not None:
        text += f" · about {progress.eta_seconds:.0f} s left"
    return text


def _metrics(progress) -> None:
    history = progress.history
    if not history and progress.test_accuracy is None:
        return
    last = history[-1] if history else None
    with st.container(horizontal=True, gap="medium"):
        st.metric("Epochs done", f"{progress.complete_epochs}/{progress.epochs}", width=150)
        seconds = progress.seconds_per_epoch
        st.metric("Seconds per epoch", f"{seconds:.1f}" if seconds else "–", width=170)
        st.metric("Images per second", f"{last.samples_per_second:,.0f}" if last else "–",
                  width=170)
        if progress.test_accuracy is not None:
            st.metric("Test accuracy", f"{progress.test_accuracy:.2%}", width=150)
        else:
            st.metric("Elapsed", f"{progress.elapsed_seconds:.0f} s", width=150)


def _outcome(progress) -> None:
    if progress.status == JobStatus.FINISHED:
        st.success(f"Training finished: test accuracy **{progress.test_accuracy:.2%}**, "
                   f"test loss {progress.test_loss:.4f}, in {progress.elapsed_seconds:.0f} s.")
    elif progress.status == JobStatus.STOPPED and progress.test_accuracy is not None:
        st.warning(f"{stop_words(progress)} Test accuracy with them: "
                   f"**{progress.test_accuracy:.2%}**.", icon=":material/stop_circle:")
    elif progress.status == JobStatus.STOPPED:
        st.warning("This run was cancelled before it started.")
    elif progress.status == JobStatus.FAILED:
        st.error(f"Training failed: {progress.error}")
    elif progress.status == JobStatus.INTERRUPTED:
        st.warning(progress.error or  # a cluster's worker says what happened
                   f"This run was interrupted when the server stopped, after "
                   f"{len(progress.history)} complete epoch(s); those are kept.")


def stop_words(progress) -> str:
    """Exactly where a stopped run stopped, and which weights it keeps."""
    if progress.stopped_mid_epoch:
        return (f"Stopped during epoch {progress.epoch} of {progress.epochs}, after batch "
                f"{progress.batch:,} of {progress.batches_per_epoch:,}. The run keeps the "
                f"weights of that moment: {_epochs(progress.complete_epochs)} and "
                f"{progress.batch:,} batches of the next.")
    return (f"Stopped after {_epochs(progress.complete_epochs)} of {progress.epochs}. The run "
            "keeps the weights at the end of the last one.")


def _epochs(count: int) -> str:
    return f"{count} full epoch{'s' if count != 1 else ''}"
