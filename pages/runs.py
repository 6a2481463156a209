"""Runs: every saved training, compared side by side; rename, download, delete, draw with one."""

import streamlit as st

from mnist_core.compare import run_label, table_rows
from mnist_core.figures.training import compare_figure
from mnist_core.model_file import ModelFileError
from mnist_core.runs.errors import RunActive, StoreError
from mnist_core.runs.stored import CONFIG_FILE, HISTORY_CSV
from ui.formats import PERCENT, shown_as_rounded
from ui.identity import Mode, visitor, whose
from ui.layout import pair
from ui.router import within_app
from ui.server import restore, saved_runs
from ui.session import (
    delete_run,
    follow_run,
    import_model,
    own_training,
    rename_run,
    visible_runs,
)
from ui.sidebar import sign_in_button, switch_page

within_app()

TABLE = "runs_table"  # the table's selection state
TABLE_IDS = "runs_table_ids"  # the run ids in the order the table last showed them
CONFIRM = "runs_confirm_delete"  # the run whose deletion awaits confirmation
MESSAGE = "runs_message"  # (kind, text) of the last action, shown once
GO_DRAW = "runs_go_draw"  # set by "Use for drawing": the script switches page
IMPORTED = "runs_imported"  # the message of an import that just worked, shown once
ALL_COLUMNS = "runs_all_columns"  # the toggle that adds the hyperparameters to the table
# The results fit the width at 1,400 px; the hyperparameters are shown on demand.
RESULT_COLUMNS = ("id", "name", "created", "status", "model", "epochs", "test accuracy",
                  "val accuracy", "train accuracy", "s/epoch")
COLUMNS = {
    "id": st.column_config.TextColumn("Run", pinned=True, width=80),
    "name": st.column_config.TextColumn("Name", pinned=True, width=110),
    "created": st.column_config.DatetimeColumn("Created", format="D MMM YYYY, HH:mm"),
    "status": st.column_config.TextColumn("Status"),
    "model": st.column_config.TextColumn("Model"),
    "epochs": st.column_config.TextColumn("Epochs", help="Trained of planned.", width=80),
    "test accuracy": st.column_config.NumberColumn("Test accuracy", **PERCENT),
    "val accuracy": st.column_config.NumberColumn(
        "Val. accuracy", help="On the validation images, after the last epoch.", **PERCENT),
    "train accuracy": st.column_config.NumberColumn(
        "Train accuracy", help="Over the last epoch's training batches.", **PERCENT),
    "s/epoch": st.column_config.NumberColumn("Per epoch", format="%.1f s",
                                             help="Seconds per epoch, on average."),
    "owner": st.column_config.TextColumn("Owner", help="Whose run it is, on a shared server.",
                                         width=80),
    "hidden units": st.column_config.TextColumn("Hidden units"),
    "conv filters": st.column_config.TextColumn("Conv filters"),
    "activation": st.column_config.TextColumn("Activation"),
    "dropout": st.column_config.NumberColumn("Dropout", format="%g"),
    "augment": st.column_config.CheckboxColumn("Augment"),
    "optimizer": st.column_config.TextColumn("Optimizer"),
    "learning rate": st.column_config.NumberColumn("Learning rate", format="%g"),
    "lr schedule": st.column_config.TextColumn("LR schedule"),
    "batch size": st.column_config.NumberColumn("Batch size", format="%d"),
    "train size": st.column_config.TextColumn("Training images"),
    "drawing examples": st.column_config.NumberColumn(
        "Drawing examples", format="localized",
        help="Drawing-style examples added to the training images."),
}

if st.session_state.pop(GO_DRAW, False):
    switch_page("pages/draw.py")  # callbacks cannot switch pages; the script can

store = saved_runs()
me = visitor()


def selected_ids(ids: list[str]) -> list[str]:
    """The runs selected in the table, by id, with the table's selection following them.

    The selection comes back as row positions in the table as it was last shown.
    Runs appear (trainings of any session) and disappear (deletions) between two
    reruns, so the positions are turned into ids through the order last shown,
    then back into positions in today's order: a selection never slides onto
    another run.
    """
    state = st.session_state.get(TABLE)
    rows = list(state["selection"]["rows"]) if state is not None else []
    shown = st.session_state.get(TABLE_IDS, ids)
    chosen = [shown[row] for row in rows if 0 <= row < len(shown)]
    chosen = [run_id for run_id in chosen if run_id in ids]
    positions = [ids.index(run_id) for run_id in chosen]
    if positions != rows:
        st.session_state[TABLE] = {"selection": {"rows": positions}}
    st.session_state[TABLE_IDS] = ids
    return chosen


def say(kind: str, text: str) -> None:
    st.session_state[MESSAGE] = (kind, text)


def rename(run_id: str) -> None:
    try:
        rename_run(run_id, st.session_state[f"runs_name_{run_id}"])
    except (StoreError, OSError) as error:
        say("error", f"Could not rename run {run_id}: {error}")
    else:
        say("success", f"Run {run_id} renamed.")


def ask_delete(run_id: str) -> None:
    st.session_state[CONFIRM] = run_id


def cancel_delete() -> None:
    st.session_state.pop(CONFIRM, None)


def delete(run_id: str) -> None:
    st.session_state.pop(CONFIRM, None)
    try:
        delete_run(run_id)
    except RunActive as error:
        say("error", f"{error} A run that is still training cannot be deleted.")
        return
    except (StoreError, OSError) as error:
        say("error", f"Could not delete run {run_id}: {error}")
        return
    say("success", f"Run {run_id} deleted.")


def use_for_drawing(run_id: str) -> None:
    try:
        found = restore(run_id)
    except (StoreError, ModelFileError) as error:
        say("error", f"Run {run_id} could not be loaded: {error}")
        return
    if found is None:
        say("error", f"Run {run_id} could not be loaded: it has been deleted.")
        return
    follow_run(run_id)  # chosen here: no longer "your latest finished run, opened for you"
    st.session_state[GO_DRAW] = True


def show_message() -> None:
    message = st.session_state.pop(MESSAGE, None)
    if message is not None:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)


def file_bytes(run_id: str, name: str) -> bytes | None:
    path = store.run_dir(run_id) / name
    return path.read_bytes() if path.is_file() else None


def model_bytes(run_id: str):
    """The model file, read only when its download button is clicked (it can be large)."""
    return lambda: store.model_path(run_id).read_bytes()


def actions(run) -> None:
    """Rename, download, delete, draw with: one run; someone else's only to read."""
    run_id = run.run_id
    mine = me.owns(run.owner)
    if mine:
        name_key = f"runs_name_{run_id}"
        st.session_state.setdefault(name_key, run.name or "")
        name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
        name_column.text_input("Name", key=name_key, max_chars=100,
                               placeholder="e.g. adam, 3 layers, dropout 0.2")
        button_column.button("Rename", key="runs_rename", on_click=rename, args=(run_id,),
                             icon=":material/edit:")
    else:
        st.info(f"**{whose(run.owner)}**, opened by its link: read-only. You can compare it, "
                "draw with it and download it; only its owner can rename or delete it.",
                icon=":material/visibility:")

    has_model = run.has_model
    # One row that wraps, each button as wide as its label ("Use fo…" in five columns at 1,024 px).
    draw_column = model_column = config_column = history_column = delete_column = st.container(
        horizontal=True, gap="small")
    training_here = own_training() and st.session_state.get("run_id") != run_id
    draw_column.button(
        "Use for drawing", key="runs_draw", type="primary", icon=":material/draw:",
        on_click=use_for_drawing, args=(run_id,), disabled=not has_model or training_here,
        help="Your own training is in progress: stop it first." if training_here
        else None if has_model else "This run ended before its first epoch: it has no model.",
    )
    if has_model:
        model_column.download_button(
            "Model (.keras)", model_bytes(run_id), file_name=f"mnist-{run_id}.keras",
            mime="application/octet-stream", icon=":material/download:", key="runs_dl_model",
            on_click="ignore",  # a rerun on the click can drop the file before it is fetched
        )
    for column, label, name, file_name, mime in (
        (config_column, "Config (.json)", CONFIG_FILE, f"mnist-{run_id}-config.json",
         "application/json"),
        (history_column, "History (.csv)", HISTORY_CSV, f"mnist-{run_id}-history.csv",
         "text/csv"),
    ):
        data = file_bytes(run_id, name)
        if data is not None:
            column.download_button(label, data, file_name=file_name, mime=mime,
                                   icon=":material/download:", key=f"runs_dl_{name}")
    if mine:
        delete_column.button("Delete…", key="runs_delete", icon=":material/delete:",
                             on_click=ask_delete, args=(run_id,))
    if mine and st.session_state.get(CONFIRM) == run_id:
        st.warning(f"Really delete run **{run_label(run_id, run.name)}**? Its model, "
                   "configuration and history are removed from disk for good.",
                   icon=":material/warning:")
        yes_column, no_column, _ = st.columns([2, 1, 3])
        yes_column.button(f"Yes, delete {run_id}", key="runs_delete_confirm", type="primary",
                          on_click=delete, args=(run_id,))
        no_column.button("Cancel", key="runs_delete_cancel", on_click=cancel_delete)


st.title("Runs")
st.markdown("Every training is saved as it goes. Select runs in the table to compare their "
            "curves; select one to rename it, download it, delete it or draw with it.")

if me.mode is Mode.ANONYMOUS:
    st.caption("A shared server: you see the runs started in this browser tab and those "
               "opened by their link. Keep a run's link to find it again.")
elif me.mode is Mode.ACCOUNTS and not me.signed_in:
    st.info("Sign in to train, and to find your runs here from any browser. A run opened "
            "by its link is listed meanwhile.", icon=":material/login:")
    sign_in_button(key="runs_sign_in")

summaries = visible_runs(store.list_runs())
if not summaries:
    st.session_state.pop(TABLE_IDS, None)
    show_message()
    if me.may_train:  # else the sign-in above says what to do
        st.info("No saved runs yet: train a model and it shows up here.",
                icon=":material/history:")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/monitoring:")
else:
    ids = [summary.run_id for summary in summaries]
    chosen = selected_ids(ids)
    rows = shown_as_rounded(table_rows(summaries))
    if me.mode is not Mode.LOCAL:
        for row, summary in zip(rows, summaries):
            row["owner"] = ("you" if me.owns(summary.owner)
                            else summary.owner.name if summary.owner and summary.owner.name
                            else "another visitor")
    every_column = st.toggle("Show the hyperparameters", key=ALL_COLUMNS,
                             help="Architecture, optimizer and training settings of each run.")
    hyperparameters = [column for column in rows[0]
                       if column not in RESULT_COLUMNS and column != "owner"]
    st.dataframe(
        rows, key=TABLE, on_select="rerun", selection_mode="multi-row",
        hide_index=True, width="stretch", placeholder="—",  # "does not apply", not "None"
        column_order=[*RESULT_COLUMNS[:2], *(["owner"] if me.mode is not Mode.LOCAL else ()),
                      *RESULT_COLUMNS[2:], *(hyperparameters if every_column else ())],
        column_config=COLUMNS,
    )
    for summary in summaries:
        if summary.problem:
            st.warning(f"Run {summary.run_id} could not be read: {summary.problem}",
                       icon=":material/error:")
    show_message()

    loaded = {}
    for run_id in chosen:
        try:
            loaded[run_id] = store.load(run_id)
        except StoreError as error:
            st.warning(f"Run {run_id} could not be read: {error}", icon=":material/error:")
    if not loaded:
        st.caption("Select one or more rows (the boxes on the left) to compare their curves.")
    else:
        st.subheader("Compare")
        histories = {run_label(run_id, run.name): run.history for run_id, run in loaded.items()}
        for column, metric in zip(pair("compare_loss", "compare_accuracy"),
                                  ("loss", "accuracy")):
            column.plotly_chart(compare_figure(histories, metric), width="stretch")
        st.caption("Training solid, validation dotted; one colour per run. Click a run in "
                   "the legend to hide it.")

        st.subheader("Selected run")
        if len(loaded) == 1:
            run_id = next(iter(loaded))
        else:
            run_id = st.selectbox("Run", list(loaded),
                                  format_func=lambda run_id: run_label(run_id, loaded[run_id].name),
                                  key="runs_action_run")
        actions(loaded[run_id])

st.subheader("Import a model")
st.caption("A `.keras` file of a network the app can build — the dense network or one of "
           "the convnets, any sizes — reading 28×28 digits (or 784 numbers) into 10 classes. "
           "It is loaded in Keras' safe mode, tested on MNIST and saved as a run.")
imported = st.session_state.pop(IMPORTED, None)
if imported is not None:
    st.success(imported, icon=":material/check_circle:")
# No file-type filter: a wrong file gets a message in words, not a bare red icon.
upload = st.file_uploader("A Keras model file (.keras)", key="runs_import",
                          disabled=not me.may_train,
                          help=None if me.may_train else "Sign in to import a model.")
if upload is not None and st.session_state.get("runs_imported_file") != upload.file_id:
    st.session_state["runs_imported_file"] = upload.file_id
    if own_training():
        st.error("Your training is in progress: stop it before importing a model.",
                 icon=":material/block:")
    else:
        try:
            with st.spinner("Checking and testing the model…"):
                job = import_model(upload.getvalue(), upload.name)
        except ModelFileError as error:
            st.error(f"**Not imported.** {error}", icon=":material/block:")
            if error.detail:
                with st.expander("Technical details"):
                    st.code(error.detail, language=None, wrap_lines=True)
        else:
            st.session_state[IMPORTED] = (
                f"Imported {upload.name} as run `{job.run_id}`: test accuracy "
                f"{job.progress().test_accuracy:.2%}. It is now your model on the Draw, "
                "Evaluate and Inside pages.")
            st.rerun()  # the table above and the sidebar show the new run at once
