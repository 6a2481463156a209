"""Evaluate: the model on the test images — how often it is right, and where it is wrong."""

import streamlit as st

from mnist_core.evaluate import (
    CELL_IMAGES_SHOWN,
    DIGITS,
    MISTAKES_SHOWN,
    Evaluation,
    evaluate,
    mistake_title,
    probability_title,
    selected_cell,
)
from mnist_core.figures.evaluation import confusion_figure, gallery_figure
from mnist_core.wording import a_digit
from ui.formats import ARCHITECTURE_NAMES, PERCENT, shown_as_rounded
from ui.layout import metrics_row
from ui.reader import is_reader, model_or_reader
from ui.router import within_app
from ui.server import mnist
from ui.session import follow_training, is_training
from ui.sidebar import switch_page

within_app()

TRUE_DIGIT, READ_AS, CONFUSION_CHART = "evaluate_true_digit", "evaluate_read_as", "evaluate_chart"


@st.cache_resource(max_entries=8, show_spinner="Running the model over the test images…")
def evaluation(run_id: str, epoch: int, _model) -> Evaluation:
    """One evaluation per run and epoch, shared by every session that looks at it."""
    data = mnist()
    return evaluate(_model, data.x_test, data.y_test)


def choose_cell_from_chart() -> None:
    """A click on the confusion matrix sets the two "true digit / read as" boxes."""
    cell = selected_cell(st.session_state[CONFUSION_CHART].selection.points)
    if cell is not None:
        st.session_state[TRUE_DIGIT], st.session_state[READ_AS] = cell


def look_inside(indices, titles: dict[int, str], key: str) -> None:
    """Pick one of the images shown and open it on the Inside page.

    A row that wraps: the button keeps its whole label and the menu takes the room
    left (beside the matrix, little); where both cannot fit, the button goes under it.
    """
    with st.container(horizontal=True, vertical_alignment="bottom"):
        index = st.selectbox("Test image", [int(i) for i in indices], key=key,
                             format_func=titles.get)
        if st.button("Look inside the model", key=f"{key}_inside",
                     icon=":material/neurology:"):
            st.session_state["inspect_index"] = index
            switch_page("pages/inside.py")


st.title("Evaluate the model")
st.markdown("How the network does on the test images, which it never saw while training: "
            "how often it is right, which digits it confuses, and its most confident mistakes.")

found = model_or_reader()
training = is_training()
follow_training()
if found is None:
    if training:
        st.info("A model is training: its evaluation appears here after its first epoch.")
    else:
        st.warning("**No trained model yet.** Train one, then come back to see how it does "
                   "on the test set.")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/monitoring:")
    st.stop()

model, epoch, job = found
data = mnist()
result = evaluation(job.run_id, epoch, model)
progress = job.progress()
weights = (job.origin if job.origin
           else f"weights after epoch {epoch}/{progress.epochs}")
note = (f"Model: run `{job.run_id}`, {weights} "
        f"· {ARCHITECTURE_NAMES[job.model_config.architecture]}.")
if is_reader(job):
    note = ("Model: the ready reader shipped with the app "
            f"({ARCHITECTURE_NAMES[job.model_config.architecture]}): you have no model "
            "of your own yet. Train one on the Train page to see how yours does.")
    if training:
        note += " Yours is training: this page switches to it after its first epoch."
elif training:
    note += " Training continues: this page follows each new epoch."
st.caption(note)

# --- How often it is right ----------------------------------------------------------------
with metrics_row():
    st.metric("Test accuracy", f"{result.accuracy:.2%}", width="content")
    st.metric("Test loss", f"{result.loss:.4f}", width="content",
              help="Mean categorical cross-entropy: −log of the probability given to "
                   "the right digit, averaged over the test images.")
    st.metric(f"Mistakes (of {result.size:,})", f"{result.mistakes:,}", width="content")
    st.metric("Macro F1", f"{result.macro_f1:.2%}", width="content",
              help="The F1 score of each digit, averaged with every digit counting the same.")

# --- Which digits it confuses -------------------------------------------------------------
st.subheader("Which digits it confuses")
st.markdown("Each row is a true digit, each column the digit the network read. The diagonal "
            "holds the right answers; every other cell is a kind of mistake, coloured on a "
            "log scale so that rare mistakes still show. **Click a cell** (or choose on the "
            "right) to see its images.")
default_cell = result.most_frequent_mistake() or (0, 0)
st.session_state.setdefault(TRUE_DIGIT, default_cell[0])
st.session_state.setdefault(READ_AS, default_cell[1])
with st.container(horizontal=True, gap="medium"):  # the images wrap under on a laptop
    chart_column = st.container(key="confusion_block")
    cell_column = st.container(key="cell_block")
with chart_column:
    st.plotly_chart(
        confusion_figure(result.confusion, (st.session_state[TRUE_DIGIT],
                                            st.session_state[READ_AS])),
        key=CONFUSION_CHART, on_select=choose_cell_from_chart, selection_mode="points",
        width="stretch",
    )
with cell_column:
    with st.container(horizontal=True):
        true_digit = st.selectbox("True digit", DIGITS, key=TRUE_DIGIT, width=140)
        read_as = st.selectbox("Read as", DIGITS, key=READ_AS, width=140)
    indices = result.cell(true_digit, read_as)
    verdict = "read right" if true_digit == read_as else f"read as {a_digit(read_as)}"
    st.markdown(f"**{len(indices):,}** test image(s) of {a_digit(true_digit)} {verdict}"
                + (f", most confident first; the first {CELL_IMAGES_SHOWN} shown:"
                   if len(indices) > CELL_IMAGES_SHOWN else ":"))
    if len(indices):
        shown = indices[:CELL_IMAGES_SHOWN]
        st.plotly_chart(
            gallery_figure(data.x_test[shown], [probability_title(result, i) for i in shown],
                           result.probabilities[shown], result.y_test[shown], columns=3),
            width="stretch",
        )
        st.caption("Under each image its softmax: red the digit read, green the true digit.")
        look_inside(shown, {int(i): probability_title(result, i) for i in shown}, "cell_image")

# --- Per digit ----------------------------------------------------------------------------
st.subheader("Digit by digit")
st.dataframe(
    shown_as_rounded(result.per_class_rows()), hide_index=True, width="stretch",
    height="content",
    placeholder="—",  # the average row has no image counts
    column_config={
        "digit": st.column_config.TextColumn("Digit"),
        "test images": st.column_config.NumberColumn("Test images", format="localized"),
        "read as this digit": st.column_config.NumberColumn("Read as this digit",
                                                            format="localized"),
        **{name: st.column_config.NumberColumn(label, **PERCENT)
           for name, label in (("precision", "Precision"), ("recall", "Recall"), ("F1", "F1"))},
    },
)
st.caption("**Precision**: of the images read as this digit, the share that really are one. "
           "**Recall**: of this digit's images, the share read right. **F1**: their harmonic "
           "mean. The average row counts every digit the same (the macro average).")

# --- Its most confident mistakes ----------------------------------------------------------
st.subheader("Its most confident mistakes")
mistakes = result.most_confident_mistakes(MISTAKES_SHOWN)
if not len(mistakes):
    st.success("No mistakes at all on the test set.")
else:
    st.markdown("The wrong answers the network was surest of, each titled *true digit → "
                "digit read (how sure)*. Some of these digits are badly written or even "
                "mislabelled; others show what the network has not learnt.")
    titles = [mistake_title(result, i) for i in mistakes]
    st.plotly_chart(gallery_figure(data.x_test[mistakes], titles, columns=6), width="stretch")
    look_inside(mistakes, {int(i): f"#{i}: {title}" for i, title in zip(mistakes, titles)},
                "mistake_image")
