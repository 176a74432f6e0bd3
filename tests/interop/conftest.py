"""Shared helpers for the interop suite: the mmnpy binary under test, running it, reading its
JSON, and the capability probe that skips Zarr / npy-stack tests on a build without them.

Environment:
  MMNPY_BIN               the mmnpy binary (tests/interop.rs passes cargo's); else target/debug/mmnpy
  MMNPY_REQUIRE_INTEROP=1 strict: a test that would be skipped for a missing format fails instead
"""

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("MMNPY_BIN") or str(ROOT / "target" / "debug" / "mmnpy")
STRICT = os.environ.get("MMNPY_REQUIRE_INTEROP") == "1"

# Every dtype mmnpy supports, by numpy's short code.
DTYPES = ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]


def layouts(byte_orders):
    """Every dtype in both byte orders and both memory orders; the header version cycles
    through 1, 2, 3 so each (dtype, version) pair appears while the suite stays small."""
    combos = [(d, b, o) for d in DTYPES for b in byte_orders for o in ["C", "F"]]
    return [(d, b, o, str(i % 3 + 1)) for i, (d, b, o) in enumerate(combos)]


class MmnpyError(AssertionError):
    """mmnpy exited non-zero; carries its stderr."""

    def __init__(self, args, proc):
        self.proc = proc
        self.stderr = proc.stderr
        super().__init__(f"mmnpy {' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr.strip()}")


def mmnpy(*args, check=True):
    """Run the binary with `args`; return its stdout. A non-zero exit raises MmnpyError."""
    proc = subprocess.run([BIN, "--threads", "2", *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise MmnpyError(args, proc)
    return proc.stdout if check else proc


def mmnpy_json(*args):
    return json.loads(mmnpy(*args))


# How a build without Zarr / npy-stack support answers (clap's unknown flags, the format
# table's "cannot tell" and "unknown format", the engine refusing a directory).
_LACKS = re.compile(
    r"cannot tell the (input|output) format|unknown (output |input )?format|"
    r"unexpected argument '--(chunks|compress|chunk-rows)'|invalid value .*(zarr|npy-stack)|"
    r"is a directory, not an \.npy file|not supported|unsupported",
    re.IGNORECASE,
)

_probe_cache = {}


def _probe(kind, tmp_root):
    """Whether this build converts to `kind` ("zarr" or "npy-stack"): one tiny conversion."""
    if kind not in _probe_cache:
        src = tmp_root / f"probe-{kind}.npy"
        np.save(src, np.arange(4.0))
        if kind == "zarr":
            args = ["convert", src, "-o", tmp_root / "probe.zarr"]
        else:
            args = ["convert", src, "-o", tmp_root / "probe-stack", "--format", "npy-stack", "--chunk-rows", "2"]
        proc = mmnpy(*args, check=False)
        lacks = proc.returncode != 0 and _LACKS.search(proc.stderr)
        first_line = (proc.stderr.strip().splitlines() or [""])[0]
        _probe_cache[kind] = (not lacks, first_line)
    return _probe_cache[kind]


@pytest.fixture
def needs_format(tmp_path_factory):
    """`needs_format("zarr")` skips the test (or, strict, fails it) when the build lacks it."""

    def need(kind):
        ok, stderr = _probe(kind, tmp_path_factory.mktemp("probe"))
        if ok:
            return
        message = f"mmnpy build lacks zarr/npy-stack ({kind}: {stderr})"
        if STRICT:
            pytest.fail(f"MMNPY_REQUIRE_INTEROP=1 and {message}")
        pytest.skip(message)

    return need


def save(path, array, version=None):
    """np.save, or numpy's write_array at an explicit header version."""
    if version is None:
        np.save(path, array)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, version=version)
    return path


def load(path):
    """np.load, checking the file with numpy's own header reader on the way."""
    return np.load(path, allow_pickle=False)


def assert_same(actual, expected):
    """Same dtype (byte order included), shape and values; NaN equals NaN."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(actual, expected)
    # assert_array_equal treats 0.0 == -0.0: check the bits of floats too.
    if actual.dtype.kind in "fc":
        a = np.ascontiguousarray(actual).view(np.uint8)
        b = np.ascontiguousarray(expected).view(np.uint8)
        nan = np.isnan(actual)
        if not nan.any():
            np.testing.assert_array_equal(a, b)


def sample(dtype, shape, seed=0, nan=False):
    """Deterministic values spanning `dtype`'s range, extremes included."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype.kind == "b":
        values = rng.random(n) < 0.5
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=n, dtype=dtype.newbyteorder("="), endpoint=True)
        values[: min(n, 2)] = [info.min, info.max][: min(n, 2)]
    elif dtype.kind == "f":
        values = (rng.standard_normal(n) * 100).astype(dtype)
        if n >= 4:
            values[:4] = [0.0, -0.0, np.finfo(dtype).max, np.finfo(dtype).smallest_subnormal]
        if nan and n > 6:
            values[5] = np.nan
    else:
        values = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dtype)
    return values.astype(dtype).reshape(shape)
