"""mmnpy writes .npy, numpy reads: every dtype, both byte orders, C and Fortran order, header
versions 1, 2 and 3, through `mmnpy create` and `mmnpy convert`. Where numpy can write the same
array, the files must be byte-identical (mmnpy's headers are np.save's)."""

import numpy as np
import pytest

from conftest import DTYPES, assert_same, layouts, load, mmnpy, sample, save

VERSIONS = {"1": (1, 0), "2": (2, 0), "3": (3, 0)}


def numpy_bytes(tmp_path, array, version):
    return save(tmp_path / "numpy.npy", array, version).read_bytes()


@pytest.mark.parametrize("dtype,byte_order,order,version", layouts(["little", "big"]))
def test_convert_layout(tmp_path, dtype, byte_order, order, version):
    a = sample(dtype, (4, 3, 5), seed=5)
    src = save(tmp_path / "src.npy", np.asfortranarray(a) if order == "C" else a)
    out = tmp_path / "out.npy"
    mmnpy("convert", src, "-o", out, "--byte-order", byte_order, "--order", order, "--version", version)
    expected = a.astype(a.dtype.newbyteorder("<" if byte_order == "little" else ">"))
    expected = np.asfortranarray(expected) if order == "F" else np.ascontiguousarray(expected)
    got = load(out)
    assert_same(got, expected)
    assert got.flags.f_contiguous == (order == "F") or got.ndim < 2
    assert out.read_bytes() == numpy_bytes(tmp_path, expected, VERSIONS[version])


# Sources whose values every target can hold or numpy's astype defines (no NaN or
# out-of-range float to integer, which is undefined behaviour in C and differs by platform).
def cast_source(src_dtype, dst_dtype):
    src, dst = np.dtype(src_dtype), np.dtype(dst_dtype)
    rng = np.random.default_rng(6)
    if src.kind == "f" and dst.kind in "iu":
        lo, hi = (0, 200) if dst.kind == "u" else (-100, 100)
        return (rng.random(300) * (hi - lo) + lo).astype(src)
    return sample(src, (300,), seed=6)


@pytest.mark.parametrize("src", ["b1", "i8", "u8", "f2", "f8"])
@pytest.mark.parametrize("dst", DTYPES)
def test_convert_unsafe_cast_is_numpy_astype(tmp_path, src, dst):
    a = cast_source(src, dst)
    save(tmp_path / "src.npy", a)
    mmnpy("convert", tmp_path / "src.npy", "-o", tmp_path / "out.npy", "--dtype", dst, "--cast", "unsafe")
    with np.errstate(all="ignore"):
        expected = a.astype(dst)
    assert_same(load(tmp_path / "out.npy"), expected)


@pytest.mark.parametrize("src,dst", [("i8", "i1"), ("f8", "i4"), ("u8", "i8"), ("i4", "u4"), ("f8", "f2")])
def test_convert_safe_cast_refuses_what_does_not_fit(tmp_path, src, dst):
    a = np.array([1, 2, 3, 4], dtype=src)
    a[2] = {"i1": 300, "i4": 2.5, "i8": 2**63, "u4": -1, "f2": 1e6}[dst] if src != "u8" else 2**63
    save(tmp_path / "src.npy", a)
    proc = mmnpy("convert", tmp_path / "src.npy", "-o", tmp_path / "out.npy", "--dtype", dst, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "error:" in proc.stderr
    assert not (tmp_path / "out.npy").exists()
    # In range, the safe cast is numpy's.
    ok = np.array([1, 2, 3, 4], dtype=src)
    save(tmp_path / "ok.npy", ok)
    mmnpy("convert", tmp_path / "ok.npy", "-o", tmp_path / "ok_out.npy", "--dtype", dst)
    assert_same(load(tmp_path / "ok_out.npy"), ok.astype(dst))


FILLS = {
    "b1": ("true", True),
    "i1": ("-128", -128),
    "i2": ("-7", -7),
    "i4": ("2147483647", 2147483647),
    "i8": ("-9223372036854775808", -(2**63)),
    "u1": ("255", 255),
    "u2": ("7", 7),
    "u4": ("4294967295", 4294967295),
    "u8": ("18446744073709551615", 2**64 - 1),
    "f2": ("0.1", 0.1),
    "f4": ("-1.5e-7", -1.5e-7),
    "f8": ("0.1", 0.1),
    "c8": ("1.5-2j", 1.5 - 2j),
    "c16": ("0.1+0.2j", 0.1 + 0.2j),
}


@pytest.mark.parametrize("dtype,byte_order,order,version", layouts(["<", ">"]))
def test_create(tmp_path, dtype, byte_order, order, version):
    text, value = FILLS[dtype]
    dt = np.dtype(dtype).newbyteorder(byte_order)
    out = tmp_path / "out.npy"
    mmnpy("create", out, "--dtype", dt.str, "--shape", "3,4,2", "--fill", text, "--order", order, "--version", version)
    expected = np.full((3, 4, 2), value, dtype=dt, order=order)
    assert_same(load(out), expected)
    assert out.read_bytes() == numpy_bytes(tmp_path, expected, VERSIONS[version])


@pytest.mark.parametrize("shape", ["", "0", "5,0,2", "1", "1,1,1,1"])
def test_create_odd_shapes(tmp_path, shape):
    out = tmp_path / "out.npy"
    mmnpy("create", out, "--dtype", "float32", "--shape", shape, "--fill", "2.5")
    dims = tuple(int(d) for d in shape.split(",") if d)
    expected = np.full(dims, 2.5, dtype="f4")
    assert_same(load(out), expected)
    assert out.read_bytes() == numpy_bytes(tmp_path, expected, None)


def test_create_default_fill_is_zero_and_numpy_can_memmap_it(tmp_path):
    out = tmp_path / "out.npy"
    mmnpy("create", out, "--dtype", "<u2", "--shape", "1000,3")
    m = np.load(out, mmap_mode="r+")
    assert m.shape == (1000, 3) and not m.any()
    m[10] = [1, 2, 3]
    m.flush()
    del m
    stats = mmnpy("stats", "--json", out)
    assert '"sum": 6' in stats
