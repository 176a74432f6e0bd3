"""CSV/TSV (numpy.loadtxt, numpy.savetxt, pandas), npz (np.savez / savez_compressed) and
Parquet (pyarrow) in both directions through `mmnpy convert`."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import assert_same, load, mmnpy, mmnpy_json, sample, save


def awkward_floats(rows, cols, seed=7):
    """Floats whose text form is easy to get wrong: shortest repr, exponents, signed zero,
    subnormals, NaN and infinities."""
    a = sample("f8", (rows, cols), seed=seed) * np.float64(1e-3) ** np.arange(cols)
    a.flat[:8] = [0.1, -0.0, 1e-5, 1e16, 5e-324, np.nan, np.inf, -np.inf]
    return a


# --- CSV / TSV written by mmnpy, read by numpy and pandas -------------------------------

@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("tsv", "\t")])
def test_npy_to_csv_reads_back_exactly_in_numpy(tmp_path, fmt, delimiter):
    a = awkward_floats(50, 4)
    save(tmp_path / "a.npy", a)
    mmnpy("convert", tmp_path / "a.npy", "-o", tmp_path / f"a.{fmt}")
    back = np.loadtxt(tmp_path / f"a.{fmt}", delimiter=delimiter, ndmin=2)
    assert_same(back, a)  # repr-style shortest digits: bit-exact after parsing


@pytest.mark.parametrize("dtype", ["i1", "i8", "u8", "f4", "f2", "b1"])
def test_npy_to_csv_with_header_reads_in_pandas(tmp_path, dtype):
    a = sample(dtype, (30, 3), seed=8)
    save(tmp_path / "a.npy", a)
    mmnpy("convert", tmp_path / "a.npy", "-o", tmp_path / "a.csv", "--header")
    frame = pd.read_csv(tmp_path / "a.csv")
    assert frame.shape == a.shape
    if a.dtype.kind == "f":
        # float32/16 are printed with their own shortest digits: exact once parsed at that width.
        assert_same(frame.to_numpy(np.float64).astype(a.dtype), a)
    else:
        assert_same(frame.to_numpy().astype(a.dtype), a)
        assert frame.to_numpy().dtype.kind == a.dtype.kind


def test_npy_to_csv_complex_reads_in_numpy(tmp_path):
    a = sample("c16", (10, 2), seed=9)
    save(tmp_path / "a.npy", a)
    mmnpy("convert", tmp_path / "a.npy", "-o", tmp_path / "a.csv")
    back = np.loadtxt(tmp_path / "a.csv", delimiter=",", dtype=complex, ndmin=2)
    assert_same(back, a)


def test_one_dimensional_array_is_one_column(tmp_path):
    a = np.arange(7, dtype="i4")
    save(tmp_path / "a.npy", a)
    mmnpy("convert", tmp_path / "a.npy", "-o", tmp_path / "a.csv")
    assert_same(np.loadtxt(tmp_path / "a.csv", dtype="i4"), a)


# --- CSV / TSV written by numpy and pandas, read by mmnpy ---------------------------------

@pytest.mark.parametrize("fmt", ["%.18e", "%.17g", "%g"])
def test_numpy_savetxt_to_npy(tmp_path, fmt):
    a = awkward_floats(40, 3, seed=10)
    np.savetxt(tmp_path / "a.csv", a, delimiter=",", fmt=fmt)
    mmnpy("convert", tmp_path / "a.csv", "-o", tmp_path / "a.npy")
    assert_same(load(tmp_path / "a.npy"), np.loadtxt(tmp_path / "a.csv", delimiter=","))


@pytest.mark.parametrize("dtype", ["f8", "f4", "i8", "u2"])
def test_pandas_to_csv_with_header_to_npy(tmp_path, dtype):
    a = sample(dtype, (60, 5), seed=11)
    frame = pd.DataFrame(a, columns=[f"col {i}" for i in range(5)])
    frame.to_csv(tmp_path / "a.csv", index=False)
    mmnpy("convert", tmp_path / "a.csv", "-o", tmp_path / "a.npy", "--dtype", dtype)
    expected = np.loadtxt(tmp_path / "a.csv", delimiter=",", skiprows=1, dtype=dtype, ndmin=2)
    assert_same(load(tmp_path / "a.npy"), expected)


def test_pandas_tsv_with_missing_values_to_npy(tmp_path):
    frame = pd.DataFrame({"a": [1.5, None, 3.0], "b": [np.nan, 2.0, -1.0]})
    frame.to_csv(tmp_path / "a.tsv", sep="\t", index=False)
    mmnpy("convert", tmp_path / "a.tsv", "-o", tmp_path / "a.npy")
    assert_same(load(tmp_path / "a.npy"), frame.to_numpy(np.float64))


def test_quoted_csv_to_npy(tmp_path):
    frame = pd.DataFrame({"x, with comma": [1.0, 2.0], 'say "y"': [3.0, 4.0]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    mmnpy("convert", tmp_path / "a.csv", "-o", tmp_path / "a.npy")
    assert_same(load(tmp_path / "a.npy"), frame.to_numpy(np.float64))


# --- npz ----------------------------------------------------------------------------------

@pytest.mark.parametrize("compressed", [False, True])
def test_npz_members_extract_byte_for_byte(tmp_path, compressed):
    members = {
        "floats": sample("f8", (20, 3), seed=12, nan=True),
        "big_endian_ints": sample(">i4", (7,), seed=13),
        "fortran": np.asfortranarray(sample("c8", (4, 5), seed=14)),
        "flags": sample("b1", (3, 3, 3), seed=15),
        "scalar": np.array(2.5, dtype="f2"),
    }
    (np.savez_compressed if compressed else np.savez)(tmp_path / "a.npz", **members)
    info = mmnpy_json("info", "--json", tmp_path / "a.npz")
    assert [m["member"] for m in info] == list(members)
    with np.load(tmp_path / "a.npz") as archive:
        for meta in info:
            name = meta["member"]
            assert meta["compressed"] == compressed
            assert meta["shape"] == list(members[name].shape)
            assert meta["descr"] == members[name].dtype.str
            out = tmp_path / f"{name}.npy"
            mmnpy("convert", tmp_path / "a.npz", "--member", name, "-o", out)
            assert_same(load(out), archive[name])
            assert out.read_bytes() == save(tmp_path / "numpy.npy", members[name]).read_bytes()


# --- Parquet --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["f8", "f4", "f2", "i1", "i4", "i8", "u1", "u8", "b1"])
def test_npy_to_parquet_reads_in_pyarrow(tmp_path, dtype):
    a = sample(dtype, (1000, 3), seed=16, nan=True)
    save(tmp_path / "a.npy", a)
    mmnpy("convert", tmp_path / "a.npy", "-o", tmp_path / "a.parquet", "--names", "x,y,z")
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.column_names == ["x", "y", "z"]
    assert table.num_rows == 1000
    for i, name in enumerate(table.column_names):
        column = table.column(name)
        assert column.null_count == 0
        assert column.type == pa.from_numpy_dtype(a.dtype.newbyteorder("="))
        assert_same(column.to_numpy(), a[:, i].astype(a.dtype.newbyteorder("=")))


def test_npy_to_parquet_big_endian_fortran(tmp_path):
    a = np.asfortranarray(sample(">f8", (100, 2), seed=17))
    save(tmp_path / "a.npy", a)
    mmnpy("convert", tmp_path / "a.npy", "-o", tmp_path / "a.parquet")
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.column_names == ["c0", "c1"]
    np.testing.assert_array_equal(np.column_stack([c.to_numpy() for c in table.columns]), a)


def test_pyarrow_parquet_to_npy(tmp_path):
    rng = np.random.default_rng(18)
    n = 5000
    table = pa.table(
        {
            "f64": pa.array(rng.standard_normal(n)),
            "f32": pa.array(rng.standard_normal(n).astype("f4")),
            "i32": pa.array(rng.integers(-1000, 1000, n).astype("i4")),
            "u16": pa.array(rng.integers(0, 60000, n).astype("u2")),
            "flag": pa.array(rng.random(n) < 0.5),
            "with_nulls": pa.array([None if i % 7 == 0 else float(i) for i in range(n)]),
            "name": pa.array([f"row {i}" for i in range(n)]),
        }
    )
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=1000)
    mmnpy("convert", tmp_path / "a.parquet", "-o", tmp_path / "a.npy")
    numeric = [c for c in table.column_names if c != "name"]
    expected = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype("f8") for c in numeric])
    assert_same(load(tmp_path / "a.npy"), expected)

    mmnpy("convert", tmp_path / "a.parquet", "-o", tmp_path / "b.npy", "--columns", "u16,i32", "--dtype", "i4")
    expected = np.column_stack([table.column(c).to_numpy().astype("i4") for c in ["u16", "i32"]])
    assert_same(load(tmp_path / "b.npy"), expected)


def test_pandas_parquet_to_npy(tmp_path):
    frame = pd.DataFrame({"a": np.arange(10, dtype="i8"), "b": np.linspace(0, 1, 10)})
    frame.to_parquet(tmp_path / "a.parquet")
    mmnpy("convert", tmp_path / "a.parquet", "-o", tmp_path / "a.npy")
    assert_same(load(tmp_path / "a.npy"), frame.to_numpy(np.float64))
