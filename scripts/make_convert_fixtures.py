"""Regenerate tests/fixtures/convert: what numpy writes for the conversions mmnpy does.

Run with a Python that has numpy (the tests never need Python):
    /tmp/venv/bin/python scripts/make_convert_fixtures.py

- cast/src_<name>.npy: edge values of one dtype; cast/<src>_to_<dst>.npy: numpy's
  `astype` of it (unsafe casting), for every pair of supported dtypes, each value cast
  inside a long array (see bulk_astype). On x86-64, the
  results of out-of-range float -> int casts are what the compiled C casts give; they are
  recorded here, not derived.
- npy/: one source and np.save of its conversions (dtype, order, byte order, version).
- cat/: inputs and np.save(np.concatenate(...)).
- raw/: a.tofile() bytes and the .npy they should become.
"""
import os
import warnings

import numpy as np
from numpy.lib import format as npformat

warnings.simplefilter("ignore")
ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "convert")

NAMES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
         "float16", "float32", "float64", "complex64", "complex128"]

EDGE = [0, 1, -1, 2, 0.5, -0.5, 2.5, -2.5, 127, 128, -129, 255, 256, 300.7, -300.7,
        32768, 65504, 65520, 70000.5, -70000.5, 2**31 - 1, 2**31, -2**31 - 1, 3e9, -3e9,
        4e9, 2**32, 1.8e19, 2**63, 2**64, 1e20, -1e20, 1e300, -1e300, 1e-300,
        float("nan"), float("inf"), float("-inf"), 1.0000001, 0.1, 16777217, 2**53 + 1,
        # Just past halfway between two float16 (rounded to float32 first, each would land on
        # the midpoint and round the wrong way: 1.0, 0 and inf instead of 1.001, 6e-08, 65504).
        1 + 2**-11 + 2**-30, -(1 + 2**-11 + 2**-30), 2**-25 + 2**-50, 65520 - 2**-30]


def edge_values(name):
    dt = np.dtype(name)
    if dt.kind == "c":
        vals = [complex(v) for v in EDGE] + [1 + 2j, -3.5 - 0.5j, complex(float("nan"), 1)]
        return np.array(vals, dtype=np.complex128).astype(dt)
    if dt.kind == "f":
        return np.array(EDGE, dtype=np.float64).astype(dt)
    if dt.kind == "b":
        return np.array([False, True, True, False])
    info = np.iinfo(dt)
    ints = [0, 1, 2, 127, 128, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 + 5,
            2**53 + 1, 2**63 - 1, -1, -2, -128, -129, -32769, -2**31, -2**63, 2**64 - 1,
            16777217, 65504, 65520, 12345678901]
    ints = [v for v in ints if info.min <= v <= info.max]
    return np.array(ints, dtype=dt)


def bulk_astype(a, dst):
    """numpy's astype of each value as its vectorised loop casts it.

    For NaN and out-of-range floats into uint32, numpy's result depends on where the value
    sits: its SIMD loop (long arrays) gives 2147483648 for NaN while its scalar loop (arrays
    of 1-4 elements and the tail of longer ones) gives 0. mmnpy gives the SIMD value
    everywhere, so each value is cast here inside a long array.
    """
    return np.array([np.full(64, v, dtype=a.dtype).astype(dst)[0] for v in a], dtype=dst)


def save(path, a, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if kw:
        with open(path, "wb") as f:
            npformat.write_array(f, a, **kw)
    else:
        np.save(path, a)


def main():
    for src in NAMES:
        a = edge_values(src)
        save(os.path.join(ROOT, "cast", f"src_{src}.npy"), a)
        for dst in NAMES:
            save(os.path.join(ROOT, "cast", f"{src}_to_{dst}.npy"), bulk_astype(a, dst))

    rng = np.random.default_rng(7)
    a = rng.normal(size=(5, 7)) * 1000
    d = os.path.join(ROOT, "npy")
    save(os.path.join(d, "src.npy"), a)
    save(os.path.join(d, "f4.npy"), a.astype(np.float32))
    save(os.path.join(d, "f2.npy"), a.astype(np.float16))
    save(os.path.join(d, "i2_unsafe.npy"), a.astype(np.int16))
    save(os.path.join(d, "fortran.npy"), np.asfortranarray(a))
    save(os.path.join(d, "big.npy"), a.astype(">f8"))
    save(os.path.join(d, "big_f4_fortran.npy"), np.asfortranarray(a.astype(">f4")))
    save(os.path.join(d, "v2.npy"), a, version=(2, 0))
    save(os.path.join(d, "v3.npy"), a, version=(3, 0))
    b = np.asfortranarray(np.arange(60, dtype=">i4").reshape(3, 4, 5))
    save(os.path.join(d, "src3_fortran_big.npy"), b)
    save(os.path.join(d, "src3_to_c_little_i8.npy"), np.ascontiguousarray(b.astype("<i8")))

    d = os.path.join(ROOT, "cat")
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    y = np.arange(40, dtype=np.float32).reshape(2, 5, 4) + 100
    z = np.arange(8, dtype=">f4").reshape(2, 1, 4) - 50
    save(os.path.join(d, "x.npy"), x)
    save(os.path.join(d, "y.npy"), y)
    save(os.path.join(d, "z_big.npy"), z)
    save(os.path.join(d, "xyz_axis1.npy"), np.concatenate([x, y, z], axis=1))
    p = np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4))
    q = np.asfortranarray(np.arange(8, dtype=np.int16).reshape(2, 4) + 20)
    save(os.path.join(d, "p_fortran.npy"), p)
    save(os.path.join(d, "q_fortran.npy"), q)
    save(os.path.join(d, "pq_axis0.npy"), np.concatenate([p, q], axis=0))
    save(os.path.join(d, "xx_axis2.npy"), np.concatenate([x, x], axis=2))
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    more = np.arange(8, dtype=np.float64).reshape(2, 4) * -1
    save(os.path.join(d, "base.npy"), base)
    save(os.path.join(d, "more.npy"), more)
    save(os.path.join(d, "base_more.npy"), np.concatenate([base, more]))
    fb = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(4, 3))
    fm = np.asfortranarray(np.arange(8, dtype=np.float64).reshape(4, 2) + 0.5)
    save(os.path.join(d, "fbase.npy"), fb)
    save(os.path.join(d, "fmore.npy"), fm)
    save(os.path.join(d, "fbase_fmore.npy"), np.concatenate([fb, fm], axis=1))

    d = os.path.join(ROOT, "raw")
    os.makedirs(d, exist_ok=True)
    r = np.arange(30, dtype="<u2").reshape(5, 6)
    with open(os.path.join(d, "u2_5x6_offset16.bin"), "wb") as f:
        f.write(b"HEADERBYTES16...")
        f.write(r.tobytes())
    save(os.path.join(d, "u2_5x6.npy"), r)


if __name__ == "__main__":
    main()
