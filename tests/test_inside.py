"""Unit tests of mnist_core.inside: first-layer weights, hidden activations, saliency,
occlusion and their figures, on the session's trained dense model and a briefly
trained CNN (real MNIST, real networks)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core import inside
from mnist_core.config import ModelConfig
from mnist_core.data import prepare
from mnist_core.figures import inside as inside_figures
from mnist_core.model import build_model
from mnist_core.predict import predict_proba

SEVEN = 0  # mnist.x_test[0] is a 7


@pytest.fixture(scope="module")
def cnn(mnist):
    """The simple convnet after one epoch on 2,000 images: enough to read a clear 7."""
    model = build_model(ModelConfig(architecture="cnn"))
    x, y = prepare(mnist.x_train[:2_000], mnist.y_train[:2_000])
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def seven(mnist) -> np.ndarray:
    return mnist.x_test[SEVEN].astype(np.float32) / 255


def kernel(layer) -> np.ndarray:
    return np.asarray(layer.kernel)


def bias(layer) -> np.ndarray:
    return np.asarray(layer.bias)


# --- First-layer weights ------------------------------------------------------------------


def test_dense_weight_images_are_the_kernel_columns(trained_model):
    hidden = trained_model.get_layer("hidden_1")
    assert inside.first_layer(trained_model) is hidden
    weights = kernel(hidden)  # (784, 512)
    images = inside.first_layer_weights(trained_model)
    assert images.shape == (512, 28, 28)
    for unit in (0, 1, 137, 511):
        np.testing.assert_array_equal(images[unit], weights[:, unit].reshape(28, 28))
    chosen = inside.first_layer_weights(trained_model, [511, 3, 40])
    np.testing.assert_array_equal(chosen, weights[:, [511, 3, 40]].T.reshape(3, 28, 28))


def test_cnn_weight_images_are_the_first_filters(cnn):
    conv = cnn.get_layer("conv_1")
    assert inside.first_layer(cnn) is conv
    filters = kernel(conv)  # (3, 3, 1, 32)
    images = inside.first_layer_weights(cnn)
    assert images.shape == (32, 3, 3)
    for f in range(32):
        np.testing.assert_array_equal(images[f], filters[:, :, 0, f])
    np.testing.assert_array_equal(inside.first_layer_weights(cnn, [7])[0], filters[:, :, 0, 7])


def test_strongest_units_come_first_by_weight_norm(trained_model):
    order = inside.strongest_units(trained_model)
    norms = np.linalg.norm(kernel(trained_model.get_layer("hidden_1")), axis=0)
    assert sorted(order.tolist()) == list(range(512))
    assert np.all(np.diff(norms[order]) <= 0)


# --- Hidden activations -------------------------------------------------------------------


def test_dense_activations_equal_relu_of_x_times_w_plus_b(trained_model, seven):
    hidden = trained_model.get_layer("hidden_1")
    (activation,) = inside.hidden_activations(trained_model, seven)
    assert activation.name == "hidden_1" and not activation.is_map
    expected = np.maximum(seven.reshape(784) @ kernel(hidden) + bias(hidden), 0)
    np.testing.assert_allclose(activation.values, expected, rtol=1e-5, atol=1e-5)
    assert (activation.values > 0).any() and (activation.values == 0).any()  # some fire, some not
    np.testing.assert_array_equal(inside.most_active_units(activation)[0], expected.argmax())


def test_cnn_feature_maps_equal_a_direct_convolution(cnn, seven):
    conv_1, conv_2 = inside.hidden_activations(cnn, seven)
    assert conv_1.values.shape == (26, 26, 32) and conv_2.values.shape == (11, 11, 64)
    assert conv_1.is_map and conv_1.maps().shape == (32, 26, 26)
    # A valid 3×3 cross-correlation of the image with each filter, plus bias, through ReLU.
    conv = cnn.get_layer("conv_1")
    windows = np.lib.stride_tricks.sliding_window_view(seven, (3, 3))  # (26, 26, 3, 3)
    expected = np.maximum(
        np.einsum("ijab,abf->ijf", windows, kernel(conv)[:, :, 0, :]) + bias(conv), 0
    )
    np.testing.assert_allclose(conv_1.values, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(conv_1.activity(), expected.mean(axis=(0, 1)), rtol=1e-4, atol=1e-6)


def test_explain_gives_the_models_own_softmax(trained_model, cnn, mnist):
    for model in (trained_model, cnn):
        for index in range(5):
            x = mnist.x_test[index] / 255
            explanation = inside.explain(model, x)
            np.testing.assert_allclose(explanation.probabilities, predict_proba(model, x),
                                       atol=1e-5)
            assert explanation.digit == int(predict_proba(model, x).argmax())
        assert inside.explain(model, mnist.x_test[SEVEN] / 255).digit == 7


def test_a_network_without_hidden_layers_is_its_own_templates(mnist):
    """No hidden layer: the first layer is the softmax layer, its columns the digits' templates."""
    model = build_model(ModelConfig(hidden_units=()))
    x = mnist.x_test[SEVEN] / 255
    explanation = inside.explain(model, x)
    assert explanation.activations == ()
    np.testing.assert_allclose(explanation.probabilities, predict_proba(model, x), atol=1e-6)
    assert inside.unit_noun(model) == "digit"
    assert inside.first_layer_weights(model).shape == (10, 28, 28)


def test_looking_inside_never_changes_the_model(trained_model, seven):
    before = [w.copy() for w in trained_model.get_weights()]
    inside.explain(trained_model, seven)
    inside.occlusion(trained_model, seven)
    inside.hidden_activations(trained_model, seven)
    for old, new in zip(before, trained_model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_the_sub_model_is_built_once_per_model(trained_model):
    assert inside._probe(trained_model) is inside._probe(trained_model)


# --- Saliency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["dense", "cnn"])
def test_saliency_is_a_finite_map_zero_where_there_is_no_ink(which, trained_model, cnn, seven):
    model = trained_model if which == "dense" else cnn
    for digit in (7, 1):
        s = inside.saliency(model, seven, digit)
        assert s.shape == (28, 28)
        assert np.isfinite(s).all()
        assert np.all(s[seven == 0] == 0)  # gradient × input: no ink, no evidence
        assert np.abs(s[seven > 0]).max() > 0
    seven_map, one_map = inside.saliency(model, seven, 7), inside.saliency(model, seven, 1)
    assert not np.allclose(seven_map, one_map)
    np.testing.assert_allclose(inside.saliency(model, seven, 7, versus=1), seven_map - one_map,
                               atol=1e-6)


def test_dense_gradients_equal_the_analytic_ones(trained_model, seven):
    """For Dense(relu) → Dense: d logit_k / dx = W1 · (active units ⊙ W2[:, k])."""
    w1, b1 = kernel(trained_model.get_layer("hidden_1")), bias(trained_model.get_layer("hidden_1"))
    w2 = kernel(trained_model.get_layer("output"))
    active = (seven.reshape(784) @ w1 + b1 > 0).astype(np.float32)
    expected = (w1 @ (active[:, None] * w2)).T.reshape(10, 28, 28)
    explanation = inside.explain(trained_model, seven)
    np.testing.assert_allclose(explanation.gradients, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(explanation.saliency(3), expected[3] * seven, rtol=1e-4, atol=1e-5)


def test_dense_saliency_adds_up_to_what_the_ink_adds_to_the_score(trained_model, seven):
    """ReLU network: logit_k = Σ saliency_k + the biases' share (active units' b1 · W2 + b2).

    So the map splits the score into per-pixel contributions, the rest being the biases.
    """
    hidden, output = trained_model.get_layer("hidden_1"), trained_model.get_layer("output")
    active = (seven.reshape(784) @ kernel(hidden) + bias(hidden) > 0).astype(np.float32)
    biases_share = (active * bias(hidden)) @ kernel(output) + bias(output)
    explanation = inside.explain(trained_model, seven)
    sums = explanation.saliency_maps.sum(axis=(1, 2))
    np.testing.assert_allclose(sums + biases_share, explanation.logits, rtol=1e-4, atol=1e-4)
    assert sums[7] > sums[1]


@pytest.mark.parametrize("which", ["dense", "cnn"])
def test_occlusion_finds_the_evidence_for_the_digit(which, trained_model, cnn, seven):
    model = trained_model if which == "dense" else cnn
    maps = inside.occlusion(model, seven)
    assert maps.shape == (10, 28, 28)
    assert np.isfinite(maps).all()
    assert maps[7].max() > 0.1  # blanking part of the 7 costs its score
    # Pixels that no patch touching ink covers: blanking them changes nothing.
    far_from_ink = np.ones((28, 28), bool)
    for r, c in zip(*np.nonzero(seven)):
        far_from_ink[max(0, r - 5):r + 6, max(0, c - 5):c + 6] = False
    assert far_from_ink.any()
    np.testing.assert_allclose(maps[:, far_from_ink], 0, atol=1e-4)  # float32 scores ~10
    blank = inside.occlusion(model, np.zeros((28, 28), np.float32))
    np.testing.assert_allclose(blank, 0, atol=1e-6)
    # One patch over the whole image: every pixel gets the score lost by blanking it all.
    whole = inside.occlusion(model, seven, patch=28)
    lost = inside.explain(model, seven).logits - inside.explain(model, np.zeros((28, 28))).logits
    np.testing.assert_allclose(whole, np.broadcast_to(lost[:, None, None], whole.shape),
                               rtol=1e-4, atol=1e-4)


# --- Figures -------------------------------------------------------------------------------


def labels_of(fig) -> list[str]:
    return [annotation.text for annotation in fig.layout.annotations]


def centred_on_zero(fig) -> bool:
    """A diverging colour scale (blue, white at 0, red) over a range symmetric around 0."""
    import plotly.graph_objects as go

    axis = fig.layout.coloraxis
    diverging = go.layout.Coloraxis(colorscale="RdBu_r").colorscale
    return axis.cmin == -axis.cmax and axis.cmax > 0 and axis.colorscale == diverging


def weights_of(model, units):
    """The weights figure as the Inside page draws it for these units."""
    units = [int(unit) for unit in units]
    return inside_figures.weights_figure(inside.first_layer_weights(model, units), units,
                                         inside.unit_noun(model), inside.first_layer(model).name)


def test_weights_figure_shows_each_chosen_unit_on_a_scale_centred_on_zero(trained_model):
    units = inside.strongest_units(trained_model)[:16]
    fig = weights_of(trained_model, units)
    assert labels_of(fig) == [f"unit {u}" for u in units]
    assert centred_on_zero(fig)
    images = inside.first_layer_weights(trained_model, units)
    assert fig.layout.coloraxis.cmax == pytest.approx(np.abs(images).max())
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.isfinite(z).sum() == 16 * 28 * 28  # 16 tiles, NaN gaps between them
    band = int(np.ceil(28 * 0.3))
    np.testing.assert_allclose(z[band:band + 28, :28], images[0], rtol=1e-6)  # tile 1, top left


def test_cnn_weights_figure_shows_the_filters(cnn):
    fig = weights_of(cnn, range(32))
    assert labels_of(fig) == [f"filter {f}" for f in range(32)]
    assert centred_on_zero(fig)
    assert np.isfinite(np.asarray(fig.data[0].z, dtype=float)).sum() == 32 * 9


def test_activation_figures(trained_model, cnn, seven):
    (hidden,) = inside.explain(trained_model, seven).activations
    fig = inside_figures.activations_figure(hidden)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (16, 32) and np.isfinite(z).sum() == 512
    np.testing.assert_allclose(z.reshape(-1), hidden.values, rtol=1e-6)
    assert fig.layout.coloraxis.cmin == 0  # ReLU outputs are never negative
    assert f"{int((hidden.values > 0).sum())} firing" in fig.layout.title.text

    conv_1, conv_2 = inside.explain(cnn, seven).activations
    fig = inside_figures.feature_maps_figure(conv_1)
    assert labels_of(fig) == [f"filter {f}" for f in range(32)]
    assert np.isfinite(np.asarray(fig.data[0].z, dtype=float)).sum() == 32 * 26 * 26
    assert len(labels_of(inside_figures.feature_maps_figure(conv_2, [5, 9]))) == 2


def test_saliency_figure_overlays_three_panels_on_the_input(trained_model, seven):
    explanation = inside.explain(trained_model, seven)
    fig = inside_figures.saliency_figure(seven, explanation.saliency_maps, 7, 1)
    assert labels_of(fig) == ["evidence for 7", "evidence for 1", "7 rather than 1"]
    grey, evidence = fig.data  # the input in grey, the evidence see-through on top of it
    assert grey.showscale is False and (grey.zmin, grey.zmax) == (0, 1)
    assert evidence.coloraxis == "coloraxis" and evidence.opacity < 1
    assert centred_on_zero(fig)
    panels = np.asarray(evidence.z, dtype=float)
    inputs = np.asarray(grey.z, dtype=float)
    assert panels.shape == inputs.shape
    assert np.all(np.isnan(panels[inputs == 0]))  # no ink, no evidence: the input shows
    limit = np.abs(np.stack([explanation.saliency(7), explanation.saliency(1),
                             explanation.saliency(7, 1)])).max()
    assert fig.layout.coloraxis.cmax == pytest.approx(limit)


def test_no_colour_is_one_of_streamlits_theme_placeholders(trained_model, cnn, seven):
    """Streamlit replaces #000001–#000040 in a Plotly figure with its theme's colours."""
    import re

    figures = [weights_of(trained_model, range(8)), weights_of(cnn, range(8))]
    for model in (trained_model, cnn):
        explanation = inside.explain(model, seven)
        figures.append(inside_figures.saliency_figure(seven, explanation.saliency_maps, 7, 1))
        figures += [inside_figures.feature_maps_figure(a) if a.is_map else inside_figures.activations_figure(a)
                    for a in explanation.activations]
    for fig in figures:
        fig.layout.template = None  # once Streamlit is imported, its template has placeholders
        assert not re.search(r"#0000(0[1-9]|[1-3][0-9]|40)\b", fig.to_json(), re.IGNORECASE)


def test_figures_of_a_blank_input_still_draw(trained_model):
    blank = np.zeros((28, 28), np.float32)
    explanation = inside.explain(trained_model, blank)
    assert np.all(explanation.saliency_maps == 0)
    fig = inside_figures.saliency_figure(blank, explanation.saliency_maps, 0, 1)
    assert centred_on_zero(fig)  # a range of ±1, never ±0
    assert np.all(np.isnan(np.asarray(fig.data[1].z, dtype=float)))


def test_layer_names_reach_the_figures_as_text_not_markup():
    """An imported model names its own layers: Plotly would render `<b>` in a title."""
    from mnist_core.quiet_keras import keras

    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(16, activation="relu", name="<b>loud"),
                              keras.layers.Dense(10, activation="softmax")])
    title = weights_of(model, range(4)).layout.title.text
    assert title.startswith("&lt;b&gt;loud: weights of 4")
