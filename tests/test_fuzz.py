"""Property-based tests: whatever a registry.yaml or a CSV file holds, zoo answers sanely.

Every generated input ends as a valid result or as zoo's own one-line error naming the file
and the line: never an uncaught exception, never a crash inside a parser.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from csv_readers import arrow_read, careful_read
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from limits import MiB, in_child

import zoo
from zoo.config.catalogue import load_catalogue
from zoo.errors import CatalogueError, DataError
from zoo.runs.csv_files import CHUNK_ROWS, read_rows
from zoo.settings import SETTINGS
from zoo.tables import read_table

pytestmark = pytest.mark.slow  # thousands of generated inputs

EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- registry.yaml -----------------------------------------------------------------------------

KNOWN_KEYS = [*SETTINGS, "model", "description", "defaults", "models"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["circles", "sgd", "adam", "full", "auto", "cuda:7", "circle-v2", "blobs"]),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10), st.integers(-5, 5))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=12,
)
model_names = st.one_of(
    st.sampled_from(["circle-v0", "circle-v2", "blob-v0", "circle-v2-wide", "new-one"]),
    st.text(max_size=10),
)
entries = st.one_of(st.none(), st.dictionaries(keys, values, max_size=6))
catalogues = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "defaults": st.one_of(st.dictionaries(keys, values, max_size=6), values),
            "models": st.one_of(st.dictionaries(model_names, entries, max_size=4), values),
        },
    ),
    values,
)
NASTY_TEXT = [
    "defaults: !!python/object/apply:os.system ['echo hacked']\n",
    "models: !!python/name:os.system\n",
    "defaults: &a [*a]\n",
    "models:\n  circle-v2: {epochs: 5}\n  circle-v2: {epochs: 6}\n",
    "[" * 5000 + "]" * 5000 + "\n",
    "defaults:\n  <<: {epochs: 5}\n  lr: .nan\n",
    "\t- tab\n:\n- - -\n",
    "? [complex, key]\n: 1\n",
    "%YAML 1.1\n--- \n...\n--- {}\n",
]


def assert_catalogue_outcome(path: Path) -> None:
    """Loading gives a catalogue, or one CatalogueError naming the file and a line."""
    try:
        load_catalogue(path)
        zoo.list_models(registry=path)  # the entries checked against the plugins' models
    except CatalogueError as exc:
        message = str(exc)
        assert re.match(rf"{re.escape(str(path))}:\d+: \S", message), message
        assert "\n" not in message


@EXAMPLES
@given(document=catalogues)
def test_any_yaml_document_is_a_catalogue_or_an_error_with_its_line(tmp_path, document):
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    assert_catalogue_outcome(path)


@EXAMPLES
@given(text=st.one_of(st.text(max_size=200), st.sampled_from(NASTY_TEXT)))
def test_any_text_is_a_catalogue_or_an_error_with_its_line(tmp_path, text):
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    assert_catalogue_outcome(path)


@EXAMPLES
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_a_catalogue_or_an_error_with_its_line(tmp_path, raw):
    path = tmp_path / "registry.yaml"
    path.write_bytes(raw)
    assert_catalogue_outcome(path)


# -- predict CSV -------------------------------------------------------------------------------

cells = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["nan", "inf", "-inf", "", " ", "1e39", "abc", "1,5", '"2"', "0x10"]),
    st.text(max_size=6),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=4), max_size=12)


def expected_rows(lines: list[list[str]], features: int) -> list[list[float]] | None:
    """What a correct reader returns for parsed ``lines``, or None when it must refuse them."""
    found, first = [], True
    for cells_ in lines:
        if not any(c.strip() for c in cells_):
            if len(cells_) > 1:
                return None  # a row of empty cells is refused, never dropped (issue #12)
            continue
        numbers = []
        for cell in cells_:
            try:
                numbers.append(float(cell))
            except ValueError:
                numbers.append(None)
        if first and all(n is None for n in numbers):
            first = False
            if len(cells_) != features:
                return None
            continue
        first = False
        if len(numbers) != features or any(
            n is None or not math.isfinite(n) or abs(n) > 3.4028234663852886e38 for n in numbers
        ):
            return None
        found.append([float(np.float32(n)) for n in numbers])
    return found or None


@EXAMPLES
@given(lines=rows)
def test_any_csv_is_rows_of_numbers_or_an_error_naming_the_line(tmp_path, lines):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    path = tmp_path / "points.csv"
    path.write_text(buffer.getvalue())
    parsed_back = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    expected = expected_rows(parsed_back, features=2)
    try:
        chunks = list(read_rows(path, features=2))
    except DataError as exc:
        assert expected is None, f"refused a valid file: {exc}"
        assert re.match(rf"{re.escape(str(path))}(:\d+)?: \S", str(exc)), str(exc)
        return
    assert expected is not None, f"accepted an invalid file: {lines}"
    assert np.concatenate(chunks).tolist() == expected


@EXAMPLES
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_csv_are_rows_or_an_error(tmp_path, raw):
    path = tmp_path / "points.csv"
    path.write_bytes(raw)
    try:
        for chunk in read_rows(path, features=2):
            assert chunk.shape[1] == 2 and np.isfinite(chunk).all()
    except DataError as exc:
        assert str(exc).startswith(str(path))


@pytest.fixture(scope="module")
def million_rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "points.csv"
    points = np.random.default_rng(0).uniform(-1.2, 1.2, size=(1_000_000, 2))
    pd.DataFrame(points, columns=["x1", "x2"]).to_csv(path, index=False, float_format="%.5f")
    return path


def test_a_million_rows_are_read_in_chunks_not_all_at_once(million_rows):
    def chunk_sizes() -> list[int]:
        return [len(chunk) for chunk in read_rows(million_rows, features=2)]

    outcome = in_child(chunk_sizes)  # its peak resident memory, measured by the kernel
    assert outcome.kind == "result", outcome.text
    sizes = ast.literal_eval(outcome.text)
    assert sum(sizes) == 1_000_000
    assert max(sizes) == CHUNK_ROWS and len(sizes) == -(-1_000_000 // CHUNK_ROWS)
    # All rows at once would hold a million Python lists (over 100 MB); a chunk holds 65,536.
    assert outcome.growth < 40 * MiB, f"peak {outcome.growth / MiB:.0f} MiB"


def test_zoo_predict_labels_a_million_rows(zoo_cli, million_rows, tmp_path):
    zoo.train("circle-v2", epochs=300, out=tmp_path / "run", plot=False)
    result = zoo_cli(
        "predict",
        str(tmp_path / "run"),
        "--input",
        str(million_rows),
        "--output",
        str(tmp_path / "labels.csv"),
    )
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "labels.csv") as labels:
        assert next(labels) == "label,p_0,p_1\n"
        assert sum(1 for _ in labels) == 1_000_000


# -- CSV tables (zoo train --dataset FILE.csv) -------------------------------------------------

table_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(lambda v: f"{v:.5f}"),
    st.integers(-(10**20), 10**20).map(str),
)
table_cells = st.one_of(
    table_numbers,
    st.sampled_from(
        [
            "",
            " ",
            " 1.5",
            "1.5 ",
            "\t2",
            "1_0",
            "١",  # noqa: RUF001 - a digit that is not ASCII, on purpose
            "1e39",
            "3.4028235e38",
            "3.4028234663852886e38",
            "0x10",
            "cat",
            "dog",
            " cat",
            '"2"',
            '"a,b"',
            '"x\ny"',
            '"ab"c',
            '"open',
            "1e300",
            "18446744073709551615",
            "2.0",
            "2e0",
            "-0",
            "+.5",
            "1e-400",
            "nan",
            "inf",
            "\x00",
            "\ufeff1",
        ]
    ),
    st.text(max_size=4),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """A CSV file's text as people write it or mangle it: mostly rows of one width, some
    numbers, some labels, line ends of every kind, notes and blank lines between."""
    width = draw(st.integers(1, 4))
    labels = st.one_of(st.sampled_from(["cat", "dog", "0", "1", "2.0", "1e300"]), table_cells)
    row = st.lists(
        st.one_of(table_numbers, table_numbers, table_cells),
        min_size=width - 1,
        max_size=width - 1,
    ).flatmap(lambda features: labels.map(lambda label: [*features, label]))
    ragged = st.lists(table_cells, max_size=width + 1)
    rows = draw(st.lists(st.one_of(row, row, row, ragged), max_size=10))
    if draw(st.booleans()):
        rows.insert(0, [f"c{i}" for i in range(width)])
    if draw(st.booleans()):  # through the csv module: quoted where a cell needs it
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        lines = buffer.getvalue().split("\n")
    else:
        lines = [",".join(row) for row in rows]
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(line for line in lines)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at] + draw(st.sampled_from(["\n", "\n\n", " \n", ",,\n", "note\n"])) + text[at:]
        )
    return draw(st.sampled_from(["", "\ufeff"])) + text


def read_outcome(read: Any, path: Path, **options: Any) -> tuple[Any, ...]:
    """What a reader made of a file: the table, or its one-line error."""
    try:
        table = read(path, **options)
    except DataError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(str(path)), message
        return ("error", message)
    assert table.X.dtype == np.float32 and table.X.flags.c_contiguous
    return (
        "table",
        table.X.shape,
        table.X.tobytes(),
        table.labels.dtype.kind,
        table.labels.tolist(),
        table.lines.tolist(),
        table.columns,
        table.header,
        table.target,
    )


csv_options = st.fixed_dictionaries(
    {},
    optional={
        "skip_rows": st.integers(0, 3),
        "header": st.sampled_from(["auto", "first", "none"]),
        "target": st.sampled_from(["1", "2", "c0", "c1"]),
    },
)


@EXAMPLES
@given(text=csv_texts(), options=csv_options)
def test_any_csv_text_reads_the_same_by_every_reader_or_is_one_line(tmp_path, text, options):
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode("utf-8"))
    careful = read_outcome(careful_read, path, **options)
    event(careful[0] if careful[0] == "table" else careful[1].split(": ", 1)[1][:24])
    assert read_outcome(read_table, path, **options) == careful
    assert read_outcome(arrow_read, path, **options) == careful


@EXAMPLES
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_a_table_read_the_same_by_every_reader_or_are_one_line(tmp_path, raw):
    path = tmp_path / "table.csv"
    path.write_bytes(raw)
    careful = read_outcome(careful_read, path)
    assert read_outcome(read_table, path) == careful == read_outcome(arrow_read, path)


@EXAMPLES
@given(
    X=st.lists(
        st.lists(
            st.floats(width=64, allow_nan=False, allow_infinity=False), min_size=3, max_size=3
        ),
        min_size=1,
        max_size=30,
    ),
    spelled=st.sampled_from([repr, lambda v: f"{v:.17g}", lambda v: f"{v:e}", str]),
)
def test_every_reader_rounds_a_number_as_float32_of_float_does(tmp_path, X, spelled):
    path = tmp_path / "numbers.csv"
    path.write_text("".join(",".join([*map(spelled, row), "a"]) + "\n" for row in X))
    outcome = read_outcome(careful_read, path)
    assert read_outcome(read_table, path) == outcome == read_outcome(arrow_read, path)
    if outcome[0] == "table":
        expected = np.array([[float(spelled(v)) for v in row] for row in X]).astype(np.float32)
        assert outcome[2] == expected.tobytes()
