#!/usr/bin/env python3
"""Write the engine's numpy fixtures: small .npy files and numpy's answers for them.

Run with the repository root as working directory:

    /tmp/venv/bin/python scripts/make_engine_fixtures.py

It writes tests/fixtures/engine/*.npy and tests/fixtures/engine/answers.json, which
tests/engine.rs compares mmnpy against. Answers come from numpy's nan* functions; float32 and
float16 answers are computed with dtype=float64 (mmnpy accumulates those in float64), and
integer sums exactly with Python ints (numpy's int64 sums would wrap).
"""
import json
import warnings
from pathlib import Path

import numpy as np

OUT = Path("tests/fixtures/engine")
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(20261123)


def arrays():
    a = rng.normal(size=(7, 5))
    a[1, 2] = a[4, 0] = np.nan
    a[6, 4] = np.nanmin(a) - 1  # argmin late
    a[3, 3] = a[6, 4]  # a tie: the first in C order must win
    yield "f8_2d", a

    b = np.round(rng.normal(size=(3, 4, 5)), 1)  # many ties
    b[0, 1, 2] = np.nan
    yield "f8_3d_fortran", np.asfortranarray(b)

    c = rng.normal(loc=100, scale=3, size=(50, 6)).astype(np.float32)
    c[10, 3] = np.nan
    yield "f4_2d", c

    h = rng.normal(size=(200,)).astype(np.float32)
    h[:3] = [0.1, 0.7, 0.3]  # values near bin edges of float32 arithmetic
    yield "f4_1d_nonan", h
    yield "f8_1d_nonan", np.concatenate([rng.normal(size=(60,)), np.linspace(-1, 1, 11)])

    yield "f4_2d_fortran_bigendian", np.asfortranarray(c[:9]).astype(">f4")

    d = np.array([[2**62, 2**62, -5, 7], [3, 2**62, 7, -(2**63)]], dtype=np.int64)
    yield "i8_wide", d

    yield "u2_2d", rng.integers(0, 65535, size=(4, 3), dtype=np.uint16)
    yield "i4_bigendian", rng.integers(-1000, 1000, size=(6,)).astype(">i4")
    yield "bool_2d", rng.integers(0, 2, size=(3, 4)).astype(bool)
    f = rng.normal(size=(10,)).astype(np.float16)
    f[4] = np.nan
    yield "f2_1d", f
    # Values near 1, where the float16 edges of the range (1 - 2**-10, 1 + 2**-11 + 2**-30)
    # must be rounded once, straight from float64 (rounded to float32 first, the last edge
    # would become 1.0 and drop the value 1.001).
    yield "f2_near_one", np.array([1, 1.0009765625, 0.99951171875, 0.9990234375, 1.001953125,
                                   1.0, 0.5, 2.0, 1.0009765625], dtype=np.float16)
    g = (rng.normal(size=(5,)) + 1j * rng.normal(size=(5,))).astype(np.complex128)
    g[2] = complex(np.nan, 1)
    yield "c16_1d", g
    yield "f8_empty", np.zeros((0, 3))
    yield "f8_0d", np.array(-2.5)


def num(x):
    """A JSON value: Python int for integers, float, or None for NaN/undefined."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (complex, np.complexfloating)):
        return [num(x.real), num(x.imag)]
    x = float(x)
    return None if not np.isfinite(x) else x


def tolist(x):
    if isinstance(x, np.ndarray):
        return [tolist(v) for v in x] if x.ndim else num(x[()])
    return num(x)


def stats(a, axis=None):
    """numpy's answers, along `axis` or for the whole array."""
    kind = a.dtype.kind
    acc = a.astype(np.float64) if kind in "fb" or kind in "iu" else a
    out = {}
    if kind in "iub":
        wide = a.astype(object)
        out["sum"] = tolist(np.sum(wide, axis=axis) if axis is not None else int(wide.sum()))
        if kind == "b" and axis is None:
            out["sum"] = int(a.sum())
    else:
        out["sum"] = tolist(np.nansum(acc, axis=axis))
    nan = np.isnan(a) if kind in "fc" else np.zeros(a.shape, bool)
    out["count"] = tolist(np.sum(~nan, axis=axis))
    out["nan_count"] = tolist(np.sum(nan, axis=axis))
    out["count_nonzero"] = tolist(np.count_nonzero(a, axis=axis))
    if a.size == 0:
        return out
    out["mean"] = tolist(np.nanmean(acc, axis=axis))
    if kind == "c":
        return out
    out["var"] = tolist(np.nanvar(acc, axis=axis))
    out["var_ddof1"] = tolist(np.nanvar(acc, axis=axis, ddof=1))
    out["std"] = tolist(np.nanstd(acc, axis=axis))
    out["min"] = tolist(np.nanmin(a, axis=axis))
    out["max"] = tolist(np.nanmax(a, axis=axis))
    out["argmin"] = tolist(np.nanargmin(a, axis=axis))
    out["argmax"] = tolist(np.nanargmax(a, axis=axis))
    return out


# Every array's histograms: (bins, range); the last range has float16 edges that are easy to
# round twice. FLOAT16_CASES adds, for float16 arrays, bins too many for float16 edges (an
# error in numpy: "Too many bins for data range").
CASES = [(4, None), (7, None), (5, (-1.0, 1.0)), (3, (0.25, 0.25)),
         (2, (1 - 2**-10, 1 + 2**-11 + 2**-30))]
FLOAT16_CASES = [(40, (1.0, 1.03)), (3, (1.0, 1.0 + 2**-11))]


def histograms(a):
    out = []
    if a.dtype.kind == "c":
        return out
    cases = CASES + (FLOAT16_CASES if a.dtype == np.float16 else [])
    for bins, rng_ in cases:
        case = {"bins": bins, "range": list(rng_) if rng_ else None}
        try:
            counts, edges = np.histogram(a, bins=bins, range=rng_)
            case["counts"] = [int(c) for c in counts]
            case["edges"] = [float(e) for e in edges]
        except ValueError as e:
            case["error"] = str(e)
        out.append(case)
    return out


answers = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, a in arrays():
        np.save(OUT / f"{name}.npy", a)
        entry = {
            "dtype": a.dtype.str,
            "shape": list(a.shape),
            "fortran": bool(np.isfortran(a)),
            "whole": stats(a),
            "axes": [stats(a, axis=k) for k in range(a.ndim)] if a.size else [],
            "histograms": histograms(a),
        }
        answers[name] = entry

(OUT / "answers.json").write_text(json.dumps(answers, indent=1) + "\n")
print(f"wrote {len(answers)} fixtures to {OUT}")
