"""Hostile data for the property tests of zoo's readers: files cut, flipped, padded or
replaced, and JSON or checkpoint structures with one value changed anywhere in them."""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

import torch
from hypothesis import strategies as st


def paths_in(data: Any, prefix: tuple = (), depth: int = 4) -> list[tuple]:
    """Every path to a value inside nested dicts and lists, up to ``depth`` levels."""
    found = [prefix] if prefix else []
    if depth == 0:
        return found
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))[:6]
    else:
        return found
    for key, value in items:
        found += paths_in(value, (*prefix, key), depth - 1)
    return found


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.integers(10**9 + 1, 10**40),
        st.integers(-(10**40), -(10**9) - 1),
        st.floats(),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, data: Any, values: st.SearchStrategy) -> Any:
    """``data`` with one value at a random path deleted, replaced, or wrapped in a list."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(paths_in(data)))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["delete", "replace", "replace", "wrap"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "wrap":
        parent[path[-1]] = [parent[path[-1]]]
    else:
        parent[path[-1]] = draw(values)
    return data


def save_bytes(data: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


@st.composite
def damaged_bytes(draw: st.DrawFn, raw: bytes) -> bytes:
    """``raw`` cut, flipped, padded, replaced by any bytes, or (a zip) repacked with
    compressed entries."""
    kinds = [
        "cut",
        "flip",
        "pad",
        "any",
        *(["compress"] if zipfile.is_zipfile(io.BytesIO(raw)) else []),
    ]
    how = draw(st.sampled_from(kinds))
    if how == "cut":
        return raw[: draw(st.integers(0, len(raw)))]
    if how == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1 :]
    if how == "pad":
        return raw + draw(st.binary(min_size=1, max_size=64))
    if how == "any":
        return draw(st.binary(max_size=300))
    source, packed = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
    return packed.getvalue()
