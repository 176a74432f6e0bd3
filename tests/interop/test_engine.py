"""numpy writes, mmnpy reads and computes: `info`, `stats` (whole array and per axis) and
`hist` against numpy's nan* functions and np.histogram."""

import math

import numpy as np
import pytest

from conftest import DTYPES, layouts, mmnpy_json, sample, save


@pytest.mark.parametrize("dtype,byte_order,order,version", layouts(["<", ">"]))
def test_info_matches_numpy_header(tmp_path, dtype, byte_order, order, version):
    a = sample(np.dtype(dtype).newbyteorder(byte_order), (3, 5))
    if order == "F":
        a = np.asfortranarray(a)
    path = save(tmp_path / "a.npy", a, (int(version), 0))
    info = mmnpy_json("info", "--json", path)
    with open(path, "rb") as f:
        major, minor = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        header = read(f)
        data_offset = f.tell()
    shape, fortran_order, dt = header
    assert info["version"] == f"{major}.{minor}"
    assert info["descr"] == np.lib.format.dtype_to_descr(dt)
    assert info["dtype"] == dt.name
    assert info["shape"] == list(shape)
    assert info["fortran_order"] == fortran_order
    assert info["data_offset"] == data_offset
    assert info["nbytes"] == a.nbytes
    assert info["file_len"] == path.stat().st_size


def close(actual, expected, rtol):
    """mmnpy prints non-finite floats as null (JSON has no NaN or infinity)."""
    if actual is None:
        assert expected is None or not np.isfinite(expected), (actual, expected)
    else:
        assert expected is not None and np.isfinite(expected), (actual, expected)
        assert math.isclose(actual, float(expected), rel_tol=rtol, abs_tol=rtol * 1e-300), (actual, expected)


def exact_sum(a):
    """The mathematically exact sum of an integer or bool array, as a Python int."""
    return int(a.astype(object).sum()) if a.size else 0


@np.errstate(all="ignore")  # inf - inf is NaN, as expected: no warning
def numpy_stats(a, ddof):
    """numpy's answers for one reduction, as Python values (None where numpy warns or raises)."""
    kind = a.dtype.kind
    valid = a[~np.isnan(a)] if kind == "f" else a.ravel()
    n = valid.size
    wide = valid.astype(np.complex128 if kind == "c" else np.float64)
    out = {"count": n, "nan_count": a.size - n}
    if kind in "biu":
        out["sum"] = exact_sum(a)
    else:
        out["sum"] = complex(np.sum(wide)) if kind == "c" else float(np.sum(wide))
    out["mean"] = (complex(np.mean(wide)) if kind == "c" else float(np.mean(wide))) if n else None
    if kind == "c":
        return out
    out["var"] = float(np.var(wide, ddof=ddof)) if n > ddof else None
    out["std"] = float(np.std(wide, ddof=ddof)) if n > ddof else None
    if n:
        out["min"] = np.nanmin(a) if kind == "f" else a.min()
        out["max"] = np.nanmax(a) if kind == "f" else a.max()
        out["argmin"] = int(np.nanargmin(a)) if kind == "f" else int(np.argmin(a))
        out["argmax"] = int(np.nanargmax(a)) if kind == "f" else int(np.argmax(a))
    else:
        out.update(min=None, max=None, argmin=None, argmax=None)
    return out


def check_stats(got, a, ddof):
    want = numpy_stats(a, ddof)
    kind = a.dtype.kind
    # Accumulated in float64 (pairwise) by both; float16/32 data is widened first.
    rtol = 1e-9
    assert got["count"] == want["count"]
    assert got["nan_count"] == want["nan_count"]
    if kind in "biu":
        assert got["sum"] == want["sum"]  # exact, beyond 64 bits too
    elif kind == "c":
        close(got["sum"][0], want["sum"].real, rtol)
        close(got["sum"][1], want["sum"].imag, rtol)
    else:
        close(got["sum"], want["sum"], rtol)
    if want["mean"] is None:
        assert got["mean"] is None
    elif kind == "c":
        close(got["mean"][0], want["mean"].real, rtol)
        close(got["mean"][1], want["mean"].imag, rtol)
    else:
        close(got["mean"], want["mean"], rtol)
    if kind == "c":
        assert set(got) == {"count", "nan_count", "sum", "mean"}
        return
    for key in ["var", "std"]:
        if want[key] is None:
            assert got[key] is None
        else:
            close(got[key], want[key], 1e-7)
    for key in ["min", "max"]:
        if want[key] is None:
            assert got[key] is None
        elif kind == "b":
            assert got[key] is bool(want[key])
        elif kind in "iu":
            assert got[key] == int(want[key])
        elif np.isfinite(want[key]):
            # Shortest round-trip digits of the element type: exact after parsing back.
            assert a.dtype.type(got[key]) == want[key], (got[key], want[key])
        else:
            assert got[key] is None
    assert got["argmin"] == want["argmin"]
    assert got["argmax"] == want["argmax"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("byte_order", ["<", ">"])
def test_stats_whole_array(tmp_path, dtype, byte_order):
    a = sample(np.dtype(dtype).newbyteorder(byte_order), (40, 7), seed=1, nan=True)
    if a.dtype.kind == "f":
        a[a == np.finfo(a.dtype).max] = 3  # keep var finite (numpy's too)
    save(tmp_path / "a.npy", a)
    check_stats(mmnpy_json("stats", "--json", tmp_path / "a.npy"), a, 0)


@pytest.mark.parametrize("dtype", ["f8", "f4", "i8", "u8"])
@pytest.mark.parametrize("ddof", [0, 1])
def test_stats_ddof(tmp_path, dtype, ddof):
    a = sample(dtype, (100,), seed=2)
    if a.dtype.kind == "f":
        a[a == np.finfo(a.dtype).max] = 3
    save(tmp_path / "a.npy", a)
    check_stats(mmnpy_json("stats", "--json", "--ddof", ddof, tmp_path / "a.npy"), a, ddof)


def test_stats_special_floats(tmp_path):
    """NaN skipped, infinities kept (a sum of +inf and -inf is NaN, as in numpy)."""
    cases = {
        "inf": np.array([1.0, np.inf, 2.0, np.nan]),
        "ninf": np.array([1.0, -np.inf, np.nan, 5.0]),
        "both": np.array([1.0, np.inf, -np.inf, np.nan, -0.0]),
        "all_nan": np.full((2, 3), np.nan),
        "empty": np.zeros((0, 4)),
        "neg_zero": np.array([-0.0, 0.0, -0.0]),
    }
    for name, a in cases.items():
        save(tmp_path / f"{name}.npy", a)
        got = mmnpy_json("stats", "--json", tmp_path / f"{name}.npy")
        check_stats(got, a, 0)


@pytest.mark.parametrize("dtype", ["f8", "f4", "f2", "i4", "u2", "b1", "c16"])
@pytest.mark.parametrize("fortran", [False, True])
def test_stats_axis(tmp_path, dtype, fortran):
    a = sample(dtype, (6, 5, 4), seed=3, nan=True)
    if a.dtype.kind == "f":
        a[a == np.finfo(a.dtype).max] = 3
        a[1, :, 2] = np.nan  # an all-NaN lane
    if fortran:
        a = np.asfortranarray(a)
    save(tmp_path / "a.npy", a)
    for axis in [0, 1, 2, -1]:
        got = mmnpy_json("stats", "--json", "--axis", axis, tmp_path / "a.npy")
        moved = np.moveaxis(a, axis, -1)
        for index in np.ndindex(moved.shape[:-1]):
            lane = {k: _at(v, index) for k, v in got.items()}
            check_stats(lane, moved[index], 0)


def _at(nested, index):
    for i in index:
        nested = nested[i]
    return nested


@pytest.mark.filterwarnings("ignore:Converting input from bool")  # numpy's note on bool data
@pytest.mark.parametrize("dtype", ["f8", "f4", "f2", "i1", "i8", "u8", "b1"])
@pytest.mark.parametrize("bins", [1, 7, 64])
def test_hist_autodetected_range(tmp_path, dtype, bins):
    a = sample(dtype, (500,), seed=4)
    if a.dtype.kind == "f":
        a[np.abs(a) > 1e4] = 1.5
        a[:3] = [a.min(), a.max(), 0.25]
    save(tmp_path / "a.npy", a)
    got = mmnpy_json("hist", "--json", "--bins", bins, tmp_path / "a.npy")
    counts, edges = np.histogram(a, bins=bins)
    assert got["counts"] == counts.tolist()
    assert len(got["edges"]) == bins + 1
    np.testing.assert_array_equal(np.array(got["edges"], dtype=edges.dtype), edges)


@pytest.mark.parametrize("dtype", ["f8", "f4", "i4", "u1"])
def test_hist_given_range_and_values_on_edges(tmp_path, dtype):
    """Values exactly on bin edges, and outside the range (dropped), as numpy counts them."""
    a = np.concatenate([np.linspace(-1, 1, 41), [-2, 3, 1, -1, 0.5]])
    if np.dtype(dtype).kind in "iu":
        a = np.arange(0, 200, 3)
    a = a.astype(dtype)
    save(tmp_path / "a.npy", a)
    lo, hi = (-1.0, 1.0) if a.dtype.kind == "f" else (10.0, 150.0)
    for bins in [3, 10, 20]:
        got = mmnpy_json("hist", "--json", "--bins", bins, "--range", f"{lo},{hi}", tmp_path / "a.npy")
        counts, edges = np.histogram(a, bins=bins, range=(lo, hi))
        assert got["counts"] == counts.tolist(), bins
        np.testing.assert_array_equal(np.array(got["edges"], dtype=edges.dtype), edges)


def test_hist_constant_array(tmp_path):
    """numpy widens a zero-width range to [x - 0.5, x + 0.5]."""
    a = np.full(10, 3.0)
    save(tmp_path / "a.npy", a)
    got = mmnpy_json("hist", "--json", "--bins", 4, tmp_path / "a.npy")
    counts, edges = np.histogram(a, bins=4)
    assert got["counts"] == counts.tolist()
    assert got["edges"] == edges.tolist()
