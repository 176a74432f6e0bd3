"""Regenerate tests/fixtures/scaleout/: npy-stacks written by dask, Zarr arrays written by
zarr-python, and the .npy files numpy saves for the same data, so `cargo test` checks mmnpy
against the real libraries without needing Python.

    /tmp/venv/bin/pip install numpy dask zarr
    /tmp/venv/bin/python scripts/make_scaleout_fixtures.py
"""

import json
import pickle
import shutil
import sys
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import zarr

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "scaleout"


def fresh(name):
    path = OUT / name
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


def table():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((10, 3))
    a[4:8] = 0.0  # a whole chunk of zeros: zarr-python does not store it
    a[1, 2] = np.nan
    return a


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    a = table()
    np.save(fresh("table_f8.npy"), a)

    # Dask npy-stacks.
    da.to_npy_stack(str(fresh("stack_f8")), da.from_array(a, chunks=(4, 3)), axis=0)
    b = np.arange(-3, 4, dtype=">i4")
    np.save(fresh("vector_i4be.npy"), b)
    da.to_npy_stack(str(fresh("stack_i4be")), da.from_array(b, chunks=3), axis=0)

    # A big info pickle alone (many chunks, ints of every width, several pickle frames).
    sizes = tuple(int(x) for x in np.random.default_rng(1).integers(0, 1 << 40, 12000))
    sizes = (0, 1, 255, 256, 65535, 65536, 2**31 - 1, 2**31) + sizes
    info = {"chunks": (sizes, (7,), (1,)), "dtype": np.dtype("<c16"), "axis": 0}
    fresh("big_info.pickle").write_bytes(pickle.dumps(info))

    # Zarr v3: uncompressed whole-row chunks (mappable), zstd with column-split chunks.
    z = zarr.create_array(
        str(fresh("table_none.zarr")), shape=a.shape, chunks=(4, 3), dtype="f8",
        compressors=None, fill_value=0.0,
    )
    z[:] = a
    z = zarr.create_array(
        str(fresh("table_zstd.zarr")), shape=a.shape, chunks=(4, 2), dtype="f8",
        compressors=zarr.codecs.ZstdCodec(level=3), fill_value=0.0,
    )
    z[:] = a
    # Zarr v2 with a zstd compressor.
    from numcodecs import Zstd
    z = zarr.create_array(
        str(fresh("table_v2.zarr")), shape=a.shape, chunks=(3, 3), dtype="f8",
        zarr_format=2, compressors=Zstd(level=1), fill_value=0.0,
    )
    z[:] = a

    versions = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "dask": dask.__version__,
        "zarr": zarr.__version__,
    }
    (OUT / "VERSIONS.json").write_text(json.dumps(versions, indent=1) + "\n")


if __name__ == "__main__":
    main()
