"""Regenerate tests/fixtures/formats/: CSV written by numpy and pandas, npz written by
np.savez / np.savez_compressed, Parquet written by pyarrow, and the arrays numpy/pandas read
back from them (the expected values the Rust tests compare with, bit for bit).

Run with /tmp/venv/bin/python (numpy, pandas, pyarrow). cargo test never runs this.
"""

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "formats")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261123)


def path(name):
    return os.path.join(OUT, name)


# Values that stress exact parsing: random doubles at full precision, tiny, huge, subnormal,
# halfway cases, negative zero, special values.
a = rng.standard_normal((40, 5)) * np.array([1, 1e-300, 1e300, 1e-8, 123456.789])
a[0] = [0.1, 5e-324, 1.7976931348623157e308, -0.0, 2.2250738585072014e-308]
a[1] = [9007199254740993.0, 0.3, 1e23, 8.98846567431158e307, 1 / 3]

# numpy savetxt's default '%.18e', and Python's shortest repr in a TSV.
np.savetxt(path("savetxt_default.csv"), a, delimiter=",")
np.save(path("savetxt_default.expected.npy"), np.loadtxt(path("savetxt_default.csv"), delimiter=","))
with open(path("savetxt_repr.tsv"), "w") as f:
    for row in a:
        f.write("\t".join(repr(float(v)) for v in row) + "\n")
np.save(path("savetxt_repr.expected.npy"), np.loadtxt(path("savetxt_repr.tsv"), delimiter="\t"))

# pandas to_csv with a header and an index column, with NaN as an empty field.
b = a.copy()
b[3, 2] = np.nan
b[7, 0] = np.inf
b[8, 1] = -np.inf
df = pd.DataFrame(b, columns=["alpha", "beta, with comma", "gamma", "delta", "eps"])
df.to_csv(path("pandas_header.csv"))
np.save(path("pandas_header.expected.npy"), pd.read_csv(path("pandas_header.csv")).to_numpy(dtype=np.float64).copy(order="C"))
# Every field quoted, CRLF line ends.
df.to_csv(path("pandas_quoted_crlf.csv"), index=False, quoting=1, lineterminator="\r\n")
np.save(
    path("pandas_quoted_crlf.expected.npy"),
    pd.read_csv(path("pandas_quoted_crlf.csv")).to_numpy(dtype=np.float64).copy(order="C"),
)
# float32 output: numpy parses as float64 and rounds.
np.save(
    path("savetxt_default.expected_f4.npy"),
    np.loadtxt(path("savetxt_default.csv"), delimiter=",", dtype=np.float32),
)
# Integers, with a header, read as int64.
ints = rng.integers(-(2**62), 2**62, size=(30, 3))
pd.DataFrame(ints, columns=["x", "y", "z"]).to_csv(path("pandas_ints.csv"), index=False)
np.save(path("pandas_ints.expected.npy"), pd.read_csv(path("pandas_ints.csv")).to_numpy(dtype=np.int64).copy(order="C"))

# What npy -> csv must print: Python repr of each float (shortest round trip).
c = a[:6].copy()
c[2, 2] = np.nan
c[3, 3] = -np.inf
np.save(path("to_csv_input.npy"), c)
with open(path("to_csv_expected.csv"), "w") as f:
    for row in c:
        f.write(",".join(repr(float(v)) for v in row) + "\n")

# npz, stored and compressed, several dtypes, a Fortran-order and a big-endian member.
x = np.arange(24, dtype=np.float64).reshape(4, 6) / 7
y = np.arange(10, dtype=np.int32) - 5
z = np.asfortranarray(rng.standard_normal((3, 5)).astype(np.float32))
w = np.arange(6, dtype=">i8")
np.savez(path("stored.npz"), x=x, y=y, z=z, w=w)
np.savez_compressed(path("compressed.npz"), x=x, y=y, z=z, w=w)
for name, arr in dict(x=x, y=y, z=z, w=w).items():
    np.save(path(f"npz_{name}.expected.npy"), arr)

# Parquet written by pyarrow (zstd, two row groups), with a null in a float and an int column,
# and a string column.
n = 50
table = pa.table(
    {
        "f64": pa.array(rng.standard_normal(n)),
        "f32": pa.array(rng.standard_normal(n).astype(np.float32)),
        "i32": pa.array(np.arange(n, dtype=np.int32) - 20),
        "u8": pa.array((np.arange(n) % 256).astype(np.uint8)),
        "name": pa.array([f"row{i}" for i in range(n)]),
        "f64_null": pa.array([None if i == 17 else float(i) for i in range(n)]),
        "i64_null": pa.array([None if i == 33 else i for i in range(n)], type=pa.int64()),
    }
)
pq.write_table(table, path("pyarrow.parquet"), compression="zstd", row_group_size=20)
numeric = ["f64", "f32", "i32", "u8", "f64_null", "i64_null"]
t = pq.read_table(path("pyarrow.parquet"))
np.save(
    path("pyarrow.expected.npy"),
    np.stack([t[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in numeric], axis=1),
)
print("wrote", sorted(os.listdir(OUT)))
