"""`slice`, `take`, `cat` and `append` against numpy indexing, np.take and np.concatenate."""

import numpy as np
import pytest

from conftest import assert_same, load, mmnpy, sample, save

EXPRESSIONS = [
    "1:4",
    "::-1",
    "-1",
    "2",
    "..., 0",
    "1:10:3, ::-2",
    ":, 2:3, -2:",
    "::2, 1, ::-3",
    "-3:, ..., 1:",
    "5:2",
    "100:",
    "::-4, ::-1, ::-1",
    "0, 0, 0",
    ":, :",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
@pytest.mark.parametrize("dtype,order", [("f8", "C"), (">i2", "F"), ("c8", "C"), ("b1", "F")])
def test_slice_is_numpy_basic_indexing(tmp_path, expr, dtype, order):
    a = sample(dtype, (11, 6, 5), seed=20)
    if order == "F":
        a = np.asfortranarray(a)
    save(tmp_path / "a.npy", a)
    out = tmp_path / "out.npy"
    mmnpy("slice", tmp_path / "a.npy", expr, "-o", out)
    expected = eval(f"a[{expr}]", {"a": a})
    got = load(out)
    assert got.shape == np.shape(expected)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, expected)
    if got.ndim >= 2 and 1 not in got.shape and got.size:
        assert got.flags.f_contiguous == (order == "F")


@pytest.mark.parametrize("index_dtype", ["i1", "u2", ">i4", "i8", "u8"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_take_is_numpy_take(tmp_path, index_dtype, axis):
    a = sample("f4", (9, 7, 8), seed=21)
    n = a.shape[axis]
    rng = np.random.default_rng(22)
    signed = np.dtype(index_dtype).kind == "i"
    indices = rng.integers(-n if signed else 0, n, size=13).astype(index_dtype)
    save(tmp_path / "a.npy", a)
    save(tmp_path / "idx.npy", indices)
    mmnpy("take", tmp_path / "a.npy", "--indices", tmp_path / "idx.npy", "--axis", axis, "-o", tmp_path / "out.npy")
    assert_same(load(tmp_path / "out.npy"), np.take(a, indices.astype(np.int64), axis=axis))


def test_take_two_dimensional_indices_and_fortran_input(tmp_path):
    a = np.asfortranarray(sample("i8", (10, 4), seed=23))
    indices = np.array([[0, -1, 3], [9, 9, 2]], dtype="i4")
    save(tmp_path / "a.npy", a)
    save(tmp_path / "idx.npy", indices)
    mmnpy("take", tmp_path / "a.npy", "--indices", tmp_path / "idx.npy", "-o", tmp_path / "out.npy")
    np.testing.assert_array_equal(load(tmp_path / "out.npy"), np.take(a, indices, axis=0))


def test_take_out_of_bounds_is_an_error(tmp_path):
    save(tmp_path / "a.npy", np.arange(5.0))
    save(tmp_path / "idx.npy", np.array([0, 5]))
    proc = mmnpy("take", tmp_path / "a.npy", "--indices", tmp_path / "idx.npy", "-o", tmp_path / "out.npy", check=False)
    assert proc.returncode == 1 and "error:" in proc.stderr
    assert not (tmp_path / "out.npy").exists()
    with pytest.raises(IndexError):
        np.take(np.arange(5.0), [0, 5])


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["f8", "u1", "c16"])
def test_cat_is_numpy_concatenate(tmp_path, axis, dtype):
    shapes = {0: [(3, 4, 2), (1, 4, 2), (5, 4, 2)], 1: [(3, 1, 2), (3, 4, 2)], -1: [(3, 4, 2), (3, 4, 3)]}[axis]
    parts = [sample(dtype, s, seed=24 + i) for i, s in enumerate(shapes)]
    parts[1] = np.asfortranarray(parts[1].astype(parts[1].dtype.newbyteorder(">")))
    paths = [save(tmp_path / f"p{i}.npy", p) for i, p in enumerate(parts)]
    mmnpy("cat", *paths, "--axis", axis, "-o", tmp_path / "out.npy")
    assert_same(load(tmp_path / "out.npy"), np.concatenate([p.astype(parts[0].dtype) for p in parts], axis=axis))


def test_cat_with_dtype_promotes_like_numpy(tmp_path):
    parts = [np.arange(4, dtype="i1"), np.array([300, -300], dtype="i2"), np.array([0.5], dtype="f4")]
    paths = [save(tmp_path / f"p{i}.npy", p) for i, p in enumerate(parts)]
    mmnpy("cat", *paths, "--dtype", "f8", "-o", tmp_path / "out.npy", "--version", "2")
    got = load(tmp_path / "out.npy")
    assert_same(got, np.concatenate(parts, dtype="f8"))
    with open(tmp_path / "out.npy", "rb") as f:
        assert np.lib.format.read_magic(f) == (2, 0)


def test_append_c_and_fortran(tmp_path):
    target = sample("f4", (5, 3), seed=30)
    more = [sample("f4", (2, 3), seed=31), sample(">f4", (4, 3), seed=32)]
    save(tmp_path / "t.npy", target)
    paths = [save(tmp_path / f"m{i}.npy", m) for i, m in enumerate(more)]
    mmnpy("append", tmp_path / "t.npy", *paths)
    assert_same(load(tmp_path / "t.npy"), np.concatenate([target, *more]).astype("f4"))

    # A Fortran-order file grows along its last axis.
    target = np.asfortranarray(sample("i8", (3, 4), seed=33))
    extra = np.asfortranarray(sample("i8", (3, 2), seed=34))
    save(tmp_path / "f.npy", target)
    save(tmp_path / "e.npy", extra)
    mmnpy("append", tmp_path / "f.npy", tmp_path / "e.npy")
    got = load(tmp_path / "f.npy")
    assert_same(got, np.concatenate([target, extra], axis=1))
    assert got.flags.f_contiguous

    # numpy can keep appending to what mmnpy grew: the header is still np.save's.
    assert (tmp_path / "t.npy").read_bytes() == save(tmp_path / "n.npy", load(tmp_path / "t.npy")).read_bytes()
