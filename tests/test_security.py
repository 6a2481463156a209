"""Security settings and hostile inputs: Streamlit's protections stay on, no user file is
ever unpickled, and a model upload can neither run code nor replace the session's model
unless it is accepted.

(Run ids from links never reach outside the runs directory: tests/test_store.py.)
"""

from __future__ import annotations

import ast
import json
import os
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = ROOT / ".streamlit" / "config.toml"
MAX_UPLOAD_MB = 50

# --- Streamlit's settings ---------------------------------------------------------------


def project_config() -> dict:
    return tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))


def test_the_config_file_keeps_xsrf_and_cors_protection_on():
    server = project_config().get("server", {})
    assert server.get("enableXsrfProtection", True) is True, "XSRF protection switched off"
    assert server.get("enableCORS", True) is True, "CORS protection switched off"
    assert str(server.get("xsrfCookieSameSite", "lax")).lower() != "none"
    assert project_config().get("global", {}).get("developmentMode", False) is False


def test_the_config_file_limits_uploads():
    """Drawings and model files are small: a low cap keeps memory use bounded."""
    server = project_config().get("server", {})
    assert "maxUploadSize" in server, "set server.maxUploadSize (Streamlit's default is 200 MB)"
    assert isinstance(server["maxUploadSize"], int) and 1 <= server["maxUploadSize"] <= MAX_UPLOAD_MB
    assert server.get("maxMessageSize", 200) <= 200


def test_streamlit_reads_the_project_config_with_protection_on():
    """The settings Streamlit itself uses, from the project's config file (plus any
    STREAMLIT_* variables of the environment, which must not switch protection off)."""
    from streamlit import config
    from streamlit.web.server.server_util import is_xsrf_enabled

    previous = os.getcwd()
    os.chdir(ROOT)  # Streamlit reads .streamlit/config.toml from the working directory
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("server.maxUploadSize") == project_config()["server"][
            "maxUploadSize"]
        assert config.get_option("server.maxUploadSize") <= MAX_UPLOAD_MB
        assert config.get_option("server.enableXsrfProtection") is True
        assert is_xsrf_enabled()
        assert config.get_option("server.enableCORS") is True
        assert config.get_option("global.developmentMode") is False
    finally:
        os.chdir(previous)
        config.get_config_options(force_reparse=True)


# --- No pickle, no unsafe deserialisation on user files -----------------------------------

SOURCE_FILES = sorted(
    [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py"),
     *(ROOT / "mnist_core").rglob("*.py")]
)
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal",
                  "joblib"}
UNSAFE_CALLS = {"eval", "exec", "read_pickle", "unsafe_load", "enable_unsafe_deserialization",
                "model_from_json", "from_config"}


def unsafe_loading(tree: ast.AST) -> list[str]:
    """Every place in a module that could unpickle or run code from a file.

    `np.load` must say allow_pickle=False (not rely on the default), Keras'
    load_model must say safe_mode=True, and pickle-like modules are not imported.
    """
    numpy_names, problems = {"numpy"}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in UNSAFE_MODULES:
                    problems.append(f"line {node.lineno}: import {alias.name}")
                if alias.name == "numpy":
                    numpy_names.add(alias.asname or "numpy")
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in UNSAFE_MODULES:
                problems.append(f"line {node.lineno}: from {node.module} import …")
            if module == "numpy" and any(alias.name == "load" for alias in node.names):
                problems.append(f"line {node.lineno}: from numpy import load (use np.load)")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        keywords = {k.arg: k.value for k in node.keywords}
        for key, wanted in (("allow_pickle", False), ("safe_mode", True)):
            if key in keywords and not (isinstance(keywords[key], ast.Constant)
                                        and keywords[key].value is wanted):
                problems.append(f"line {node.lineno}: {name}(…, {key}={ast.unparse(keywords[key])})")
        if name in UNSAFE_CALLS:
            problems.append(f"line {node.lineno}: {ast.unparse(func)}(…)")
        is_np_load = (isinstance(func, ast.Attribute) and func.attr == "load"
                      and isinstance(func.value, ast.Name) and func.value.id in numpy_names)
        if is_np_load and "allow_pickle" not in keywords:
            problems.append(f"line {node.lineno}: {ast.unparse(func)}(…) without allow_pickle=False")
        is_keras_load = name == "load_model" and "keras" in ast.unparse(func)
        if is_keras_load and "safe_mode" not in keywords:
            problems.append(f"line {node.lineno}: {ast.unparse(func)}(…) without safe_mode=True")
    return problems


@pytest.mark.parametrize("code, flagged", [
    ("import numpy as np\nnp.load(path)", True),
    ("import numpy as np\nnp.load(path, allow_pickle=True)", True),
    ("import numpy\nnumpy.load(path, allow_pickle=flag)", True),
    ("import numpy as np\nnp.load(path, allow_pickle=False)", False),
    ("import pickle", True),
    ("from joblib import load", True),
    ("import keras\nkeras.saving.load_model(path)", True),
    ("import keras\nkeras.models.load_model(path, safe_mode=False)", True),
    ("import keras\nkeras.saving.load_model(path, safe_mode=True)", False),
    ("import keras\nkeras.config.enable_unsafe_deserialization()", True),
    ("eval(text)", True),
    ("import json\njson.load(file)", False),
])
def test_the_unsafe_loading_check_itself(code, flagged):
    assert bool(unsafe_loading(ast.parse(code))) is flagged


def test_no_source_file_unpickles_or_runs_code_from_a_file():
    problems, np_loads, keras_loads = [], 0, 0
    for path in SOURCE_FILES:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        problems += [f"{path.relative_to(ROOT)} {problem}" for problem in unsafe_loading(tree)]
        np_loads += source.count("np.load(")
        keras_loads += source.count("keras.saving.load_model(")
    assert not problems, "\n".join(problems)
    # The check saw the loads it is about: MNIST's .npz, runs' weights, uploaded models.
    assert np_loads >= 2 and keras_loads >= 1
    assert len(SOURCE_FILES) > 10


# --- Model uploads ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_module():
    import keras

    return keras


def save(model, folder: Path, name: str = "model.keras") -> Path:
    path = folder / name
    model.save(path)
    return path


def small_dense(keras, units: int = 16):
    return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(units, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def with_layer_config(path: Path, index: int, layer: dict) -> Path:
    """The .keras file with its `index`-th layer's config replaced by `layer`."""
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][index] = layer
    files["config.json"] = json.dumps(config).encode()
    hostile = path.with_name(f"hostile-{index}.keras")
    with zipfile.ZipFile(hostile, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return hostile


def test_a_model_with_an_unregistered_custom_layer_is_refused(keras_module, tmp_path):
    """A custom layer class (whose code is not in the file, and must never be imported
    from wherever the file says) is refused by safe mode, with a reason."""
    from mnist_core.model import ModelFileError, load_model

    keras = keras_module

    class Doubler(keras.layers.Layer):  # defined here, registered nowhere
        def call(self, x):
            return x * 2

    model = keras.Sequential([keras.Input(shape=(784,)), Doubler(),
                              keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ModelFileError, match="made with a layer this app does not know: Doubler"):
        load_model(str(save(model, tmp_path)))


@pytest.mark.parametrize("module, class_name", [
    ("os", "system"),  # a config naming any importable callable: never imported or called
    ("subprocess", "Popen"),
    ("builtins", "exec"),
    ("keras.saving", "load_model"),  # Keras' own non-modelling functions are refused too
    ("keras.config", "enable_unsafe_deserialization"),
])
def test_a_model_config_naming_code_outside_keras_is_refused_without_running_it(
        keras_module, tmp_path, module, class_name):
    from mnist_core.model import ModelFileError, load_model

    marker = tmp_path / "code-ran"
    command = f"touch {marker}"
    good = save(small_dense(keras_module), tmp_path)
    hostile = with_layer_config(good, 0, {
        "module": module, "class_name": class_name, "registered_name": None,
        "config": {"command": command, "args": command, "source": f"open({str(marker)!r}, 'w')",
                   "filepath": str(tmp_path / "nowhere.keras"), "name": "dense"},
    })
    with pytest.raises(ModelFileError,
                       match=f"made with a layer this app does not know: {class_name}") as error:
        load_model(str(hostile))
    # Refused for naming that code, not for some other flaw of the edited file.
    assert (f"Could not locate class '{class_name}'" in error.value.detail
            or f"Cannot deserialize `{module}.{class_name}`" in error.value.detail)
    assert not marker.exists(), "the model file ran code"


def test_a_refused_upload_leaves_the_sessions_model_as_it_was(keras_module, tmp_path):
    """Through the Runs page: a good upload becomes the session's model; then random
    bytes, a Lambda layer, a custom layer and a wrong shape are each refused with a
    message, and the session's model, run and link stay exactly as they were."""
    from apptest_helpers import app_at

    from ui.server import runs

    keras = keras_module
    good = save(small_dense(keras), tmp_path, "mine.keras")

    class Shifter(keras.layers.Layer):
        def call(self, x):
            return x + 1

    bad_models = {
        "lambda.keras": keras.Sequential([keras.Input(shape=(784,)),
                                          keras.layers.Lambda(lambda x: x * 2),
                                          keras.layers.Dense(10, activation="softmax")]),
        "custom.keras": keras.Sequential([keras.Input(shape=(784,)), Shifter(),
                                          keras.layers.Dense(10, activation="softmax")]),
        "five-classes.keras": keras.Sequential([keras.Input(shape=(784,)),
                                                keras.layers.Dense(5, activation="softmax")]),
    }
    uploads = {"noise.keras": os.urandom(2048)}
    uploads.update({name: save(model, tmp_path, name).read_bytes()
                    for name, model in bad_models.items()})

    at = app_at("runs")
    at.file_uploader(key="runs_import").upload("mine.keras", good.read_bytes(),
                                               "application/octet-stream").run()
    assert not at.exception
    model_run_id = at.session_state["model_run_id"]
    before = (model_run_id, at.session_state["run_id"], at.query_params.get("run"))
    assert runs().get(model_run_id) is not None
    runs_before = {summary.run_id for summary in runs().store.list_runs()}

    for name, data in uploads.items():
        at.file_uploader(key="runs_import").upload(name, data, "application/octet-stream").run()
        assert not at.exception, name
        assert any(e.value.startswith(f"**Not imported.** {name} ") for e in at.error), name
        assert not any(f"Imported {name}" in s.value for s in at.success), name
        after = (at.session_state["model_run_id"], at.session_state["run_id"],
                 at.query_params.get("run"))
        assert after == before, name
    assert {summary.run_id for summary in runs().store.list_runs()} == runs_before

