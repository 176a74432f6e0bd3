#!/usr/bin/env python3
"""Regenerate tests/fixtures/ops: numpy's own answers for slicing and take.

Run with the project venv:  /tmp/venv/bin/python scripts/make_slice_fixtures.py

Writes (all small, committed):
- arange_C.npy / arange_F.npy: int64 arange(120) shaped (6, 5, 4), C and Fortran order;
- slices.json: for each expression, numpy's result shape and values (C order) of a[expr],
  or the exception numpy raised;
- dtype_<name>_<order>.npy and dtype_<name>_<order>__<k>.npy: a (7, 6) array of every
  supported dtype and byte order, and np.save(a[EXPRS[k]]) of it;
- idx_*.npy index arrays and takes.json: numpy.take(arange, idx, axis) shapes and values.
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "ops")

EXPRESSIONS = [
    "", ":", "::", "0", "-1", "5", "-6", "1:4", "4:1", "4:1:-1", "::-1", "::2", "::-2",
    "-2:", ":-2", "-100:100", "100:", "-100:", ":100:-1", "100::-1", "-100::-1", "::-100",
    "1:-1:3", "..., 0", "0, ...", "..., ::-1", "1, ..., 2", "1, 2, 3", "-1, -1, -1", ":, 1",
    ":, :, -1", "2:5, ::-2, 1:3", "::3, 4, ::-3", "[1:3, 2]", " 1 : 4 : 2 , -1 ",
    "5:0:-2, 1:, :-1", "0:0", "3:3:-1, :", "1_0:", "..., 1:2", "-7:7:2", "+1", "1,", "::7",
    "::-7", "...", ":, ::-1, ::-1", "-3::-2, -4:-1, 2", "10:-10:-1", "-10:10:1",
    "9223372036854775807:", ":-9223372036854775808:-1",
    # errors
    "6", "-7", ":, 5", "::0", "1, 2, 3, 4", "..., ...", "a", "1:2:3:4", "1 2",
]

DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<u2", "<i4", ">u4", "<i8", ">u8", "<f2",
          ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c16"]
DTYPE_EXPRS = ["1:6:2, ::-1", "-1", "..., ::-4", "::-3, 2"]


def to_index(expr):
    """Python's own parser turns the expression into an index tuple, as a[...] would.
    mmnpy also accepts the expression wrapped in brackets, as it is written after `a`."""
    body = expr.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    return eval(f"np.s_[{body}]", {"np": np})


def main():
    os.makedirs(OUT, exist_ok=True)
    a = np.arange(120, dtype=np.int64).reshape(6, 5, 4)
    np.save(os.path.join(OUT, "arange_C.npy"), a)
    np.save(os.path.join(OUT, "arange_F.npy"), np.asfortranarray(a))
    table = []
    for expr in EXPRESSIONS:
        entry = {"expr": expr}
        try:
            r = a[to_index(expr)] if expr.strip() not in ("", "[]") else a[()]
            entry["shape"] = list(r.shape)
            entry["values"] = [int(v) for v in np.ravel(r, order="C")]
        except (IndexError, ValueError, SyntaxError, NameError, TypeError) as e:
            entry["error"] = type(e).__name__
        table.append(entry)
    with open(os.path.join(OUT, "slices.json"), "w") as f:
        json.dump(table, f, indent=0)

    rng = np.random.default_rng(7)
    for descr in DTYPES:
        dt = np.dtype(descr)
        if dt.kind == "b":
            base = rng.integers(0, 2, (7, 6)).astype(dt)
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            base = rng.integers(info.min, info.max, (7, 6), endpoint=True, dtype=dt.newbyteorder("="))
            base = base.astype(dt)
        elif dt.kind == "f":
            base = (rng.standard_normal((7, 6)) * 100).astype(dt)
            base[0, 0] = np.nan
            base[1, 1] = -0.0
        else:
            base = (rng.standard_normal((7, 6)) + 1j * rng.standard_normal((7, 6))).astype(dt)
        name = descr.replace("<", "le").replace(">", "be").replace("|", "")
        for order in "CF":
            src = np.asfortranarray(base) if order == "F" else np.ascontiguousarray(base)
            assert src.dtype.str == descr or descr[0] == "|"
            np.save(os.path.join(OUT, f"dtype_{name}_{order}.npy"), src)
            for k, expr in enumerate(DTYPE_EXPRS):
                np.save(os.path.join(OUT, f"dtype_{name}_{order}__{k}.npy"), src[to_index(expr)])

    indices = {
        "idx_i8.npy": np.array([3, -1, 0, 0, 2], dtype="<i8"),
        "idx_u1.npy": np.array([1, 0, 3], dtype="|u1"),
        "idx_be_i2.npy": np.array([-2, 4, 1, -5], dtype=">i2"),
        "idx_2d_F.npy": np.asfortranarray(np.array([[0, -1, 2], [3, 1, -4]], dtype="<i4")),
        "idx_empty.npy": np.array([], dtype="<i8"),
        "idx_oob.npy": np.array([0, 1, 7, 2], dtype="<i8"),
        "idx_float.npy": np.array([0.0, 1.0]),
    }
    for name, idx in indices.items():
        np.save(os.path.join(OUT, name), idx)
    takes = []
    for name, idx in indices.items():
        for axis in range(3):
            entry = {"indices": name, "axis": axis}
            try:
                if idx.dtype.kind not in "iu":
                    raise TypeError("not integer")
                r = np.take(a, idx.astype(np.int64), axis=axis)
                entry["shape"] = list(r.shape)
                entry["values"] = [int(v) for v in np.ravel(r, order="C")]
            except (IndexError, TypeError) as e:
                entry["error"] = type(e).__name__
            takes.append(entry)
    with open(os.path.join(OUT, "takes.json"), "w") as f:
        json.dump(takes, f, indent=0)
    print(f"wrote fixtures to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
