#!/usr/bin/env python3
"""Write the .npy fixtures the Rust tests compare against, with numpy's own writers.

Run from the repository root with the project's venv (numpy only):

    /tmp/venv/bin/python scripts/make_fixtures.py

Output, all under tests/fixtures/npy/ (the directory is rebuilt from scratch):

- *.npy: arrays written by np.save (or np.lib.format.write_array with an explicit version),
  covering every supported dtype in both byte orders, C and Fortran order, 0-d, empty,
  1-3 dimensions, v1/v2/v3 headers, special floats and extreme integers. A few "legacy_*"
  files carry the 16-byte-aligned header numpy < 1.14 wrote (built by hand, see
  legacy_header()), and "trailing_*" files have bytes after the data (numpy reads them).
- malformed/*.npy: files numpy itself refuses (its own list from
  numpy/lib/tests/test_format.py plus the other cases the issue names); the script checks
  that np.load really rejects each one and records numpy's message.
- manifest.json: for every array file its descr, shape, fortran_order, version, data_offset,
  how it was written, and the values in C order as exact text (ints as decimal strings,
  floats as Python repr, which round-trips exactly; complex as [re, im]; bools as JSON
  booleans); "headers": header bytes numpy writes for shapes too large to store as data
  (growth-axis padding, 64-byte boundaries), as hex; "malformed": the refused files.

The Rust tests never run Python: they read these committed files.
"""

import io
import json
import os
import shutil
import sys
import warnings

import numpy as np
from numpy.lib import _format_impl as npformat  # the private helpers (_read_array_header...) live here

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "npy")
MALFORMED = os.path.join(OUT, "malformed")

# (numpy name, descr without byte order)
DTYPES = [
    ("bool", "b1"),
    ("int8", "i1"),
    ("int16", "i2"),
    ("int32", "i4"),
    ("int64", "i8"),
    ("uint8", "u1"),
    ("uint16", "u2"),
    ("uint32", "u4"),
    ("uint64", "u8"),
    ("float16", "f2"),
    ("float32", "f4"),
    ("float64", "f8"),
    ("complex64", "c8"),
    ("complex128", "c16"),
]


def sample_values(dt, n):
    """n values of dtype dt, starting with the extremes and specials of the type."""
    dt = np.dtype(dt)
    kind = dt.kind
    if kind == "b":
        base = [True, False, True, True, False, False]
    elif kind == "i":
        info = np.iinfo(dt)
        base = [int(info.min), int(info.max), 0, -1, 42, int(info.min) + 1]
    elif kind == "u":
        info = np.iinfo(dt)
        base = [0, int(info.max), 1, 1 << (info.bits - 1), 42, int(info.max) - 1]
    elif kind == "f":
        info = np.finfo(dt)
        base = [
            np.nan,
            np.inf,
            -np.inf,
            -0.0,
            float(info.smallest_subnormal),
            float(info.max),
            float(info.min),
            float(info.smallest_normal),
            float(info.eps),
            0.1,
            -1.5,
        ]
    else:  # complex
        part = np.finfo(dt).dtype
        pinfo = np.finfo(part)
        base = [
            complex(np.nan, -0.0),
            complex(np.inf, 1.5),
            complex(-0.0, -np.inf),
            complex(float(pinfo.max), float(pinfo.smallest_subnormal)),
            complex(0.1, -2.5),
            complex(1.0, 0.0),
        ]
    values = list(base[:n])
    i = 0
    while len(values) < n:
        # Then a simple ramp, so that every position in a 3-D array is distinguishable.
        if kind == "b":
            values.append(i % 3 == 0)
        elif kind in "iu":
            values.append(i % 100 + 3)
        elif kind == "f":
            values.append(i * 0.25 - 3.0)
        else:
            values.append(complex(i * 0.5, -i * 0.25))
        i += 1
    return np.array(values, dtype=dt)


def text_of(dt, x):
    """Exact text of one element (see the module docs)."""
    kind = np.dtype(dt).kind
    if kind == "b":
        return bool(x)
    if kind in "iu":
        return str(int(x))
    if kind == "f":
        return repr(float(x))
    return [repr(float(x.real)), repr(float(x.imag))]


def version_of(path):
    with open(path, "rb") as f:
        f.read(6)
        major, minor = f.read(2)
    return f"{major}.{minor}"


def data_offset_of(path):
    with open(path, "rb") as f:
        version = npformat.read_magic(f)
        npformat._read_array_header(f, version)
        return f.tell()


manifest = {"arrays": [], "headers": [], "long_headers": [], "malformed": []}


def record(name, arr, writer, version_label=None, trailing=0):
    path = os.path.join(OUT, name)
    # The legacy writer keeps order information in the header only.
    loaded = np.load(path)
    assert loaded.dtype == arr.dtype and loaded.shape == arr.shape, name
    assert np.array_equal(loaded, arr, equal_nan=True), name
    header_fortran = bool(arr.flags.f_contiguous and not arr.flags.c_contiguous)
    manifest["arrays"].append(
        {
            "file": name,
            "descr": arr.dtype.str,
            "dtype": arr.dtype.name,
            "shape": list(arr.shape),
            "fortran_order": header_fortran,
            "version": version_label or version_of(path),
            "data_offset": data_offset_of(path),
            "writer": writer,
            "trailing_bytes": trailing,
            "values": [text_of(arr.dtype, x) for x in arr.ravel(order="C")],
        }
    )


def save(name, arr):
    np.save(os.path.join(OUT, name), arr)
    record(name, arr, "np.save")


def save_version(name, arr, version):
    with open(os.path.join(OUT, name), "wb") as f:
        npformat.write_array(f, arr, version=version)
    record(name, arr, f"write_array(version={version})")


def legacy_header(arr):
    """The header numpy < 1.14 wrote (format 1.0 only).

    Before numpy 1.14 (`numpy/lib/format.py`, `_write_array_header`), the dict was written
    as "{" + "'key': repr(value), " for each sorted key + "}", with no growth-axis padding,
    then padded with spaces so that magic (6) + version (2) + length (2) + header + "\\n"
    is a multiple of 16 -- always adding 1 to 16 spaces, never 0 -- and ended with "\\n".
    numpy >= 1.14 pads to 64 bytes instead; both are read by every version.
    """
    d = npformat.header_data_from_array_1_0(arr)
    text = "{"
    for key in sorted(d):
        text += f"{key!r}: {d[key]!r}, "
    text += "}"
    current = 6 + 2 + 2 + len(text) + 1
    text += " " * (16 - current % 16) + "\n"
    assert (10 + len(text)) % 16 == 0
    raw = text.encode("latin1")
    return b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw


def save_legacy(name, arr):
    data = arr.tobytes(order="F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(legacy_header(arr))
        f.write(data)
    record(name, arr, "legacy-16")


def save_trailing(name, arr, extra):
    path = os.path.join(OUT, name)
    np.save(path, arr)
    with open(path, "ab") as f:
        f.write(extra)
    record(name, arr, "np.save+trailing", trailing=len(extra))


def arrays():
    for name, code in DTYPES:
        orders = ["|"] if code[1] == "1" else ["<", ">"]
        for bo in orders:
            dt = np.dtype(bo + code)
            tag = f"{name}_{'le' if bo == '<' else 'be' if bo == '>' else 'na'}"
            a = sample_values(dt, 6).reshape(2, 3)
            save(f"{tag}_c2.npy", a)
            save(f"{tag}_f2.npy", np.asfortranarray(a))
        native = np.dtype(("<" if code[1] != "1" else "|") + code)
        a3 = sample_values(native, 24).reshape(2, 3, 4)
        save(f"{name}_c3.npy", a3)
        save(f"{name}_f3.npy", np.asfortranarray(a3))
        save(f"{name}_0d.npy", sample_values(native, 1).reshape(()))
        save(f"{name}_1d.npy", sample_values(native, 11 if code[0] == "f" else 5))

    # Empty arrays: numpy writes fortran_order False for them whatever the order.
    save("empty_f8_1d.npy", np.zeros((0,), "<f8"))
    save("empty_i4_c3.npy", np.zeros((2, 0, 3), "<i4"))
    save("empty_f4_f3.npy", np.asfortranarray(np.zeros((2, 0, 3), "<f4")))
    save("empty_i2_be.npy", np.zeros((0, 0), ">i2"))
    save("empty_b1_1d.npy", np.zeros((0,), "|b1"))
    save("zerod_f8_be.npy", np.array(-0.0, ">f8"))
    save("zerod_c16_be.npy", np.array(complex(1.5, -np.inf), ">c16"))
    # Axes of length 1: C and F layouts coincide, numpy writes fortran_order False.
    save("ones_axes_f4.npy", np.asfortranarray(sample_values("<f4", 3).reshape(1, 3, 1)))

    # Explicit header versions.
    a = sample_values("<f8", 12).reshape(3, 4)
    save_version("v1_f8.npy", a, (1, 0))
    save_version("v2_f8.npy", a, (2, 0))
    save_version("v3_f8.npy", a, (3, 0))
    save_version("v2_i2_f.npy", np.asfortranarray(sample_values("<i2", 6).reshape(3, 2)), (2, 0))
    save_version("v3_u4_be.npy", sample_values(">u4", 4), (3, 0))
    save_version("v2_0d_c8.npy", sample_values("<c8", 1).reshape(()), (2, 0))
    save_version("v3_empty_f2.npy", np.zeros((3, 0), "<f2"), (3, 0))

    # Headers as numpy < 1.14 wrote them (16-byte alignment, no growth padding).
    save_legacy("legacy_f8_c2.npy", sample_values("<f8", 6).reshape(2, 3))
    save_legacy("legacy_i4_be.npy", sample_values(">i4", 3))
    save_legacy("legacy_u2_f2.npy", np.asfortranarray(sample_values("<u2", 6).reshape(3, 2)))
    save_legacy("legacy_b1_0d.npy", np.array(True))

    # What `mmnpy create --fill` must reproduce byte for byte (np.full / np.zeros).
    save("full_f8_c.npy", np.full((3, 4), 1.5, "<f8"))
    save("full_i2_be_f.npy", np.full((2, 3), -7, ">i2", order="F"))
    save("full_c16_1d.npy", np.full((3,), complex(1, -2), "<c16"))
    save("full_b1_0d.npy", np.full((), True, "|b1"))
    save("full_u8_max.npy", np.full((2, 2), 2**64 - 1, "<u8"))
    save("full_f2_nan.npy", np.full((4,), np.nan, "<f2"))
    # numpy rounds text to float64 first, then to float32: this decimal, just above the
    # midpoint between 1 and the next float32, becomes 1.0 (a direct decimal->f32 parse
    # would give the next float32 up).
    save("full_f4_midpoint.npy", np.full((2,), float("1.000000059604644775390625001"), "<f4"))
    save("zeros_u1_empty.npy", np.zeros((0, 5), "|u1"))
    save_version("zeros_f4_v2_f.npy", np.zeros((2, 3, 2), "<f4", order="F"), (2, 0))
    save_version("zeros_i4_v3.npy", np.zeros((5,), "<i4"), (3, 0))

    # Bytes after the data are allowed (numpy ignores them).
    save_trailing("trailing_i8.npy", sample_values("<i8", 4), b"TRAILING GARBAGE")


def headers():
    """Header bytes for shapes too large to store: the growth padding and 64-byte rounding."""
    cases = []
    # Up to 10**18: numpy's padding leaves room for 21 digits, but an array of more than
    # isize::MAX bytes cannot exist in Rust, and mmnpy refuses to describe one.
    for k in range(0, 19):
        n = 10**k
        # fortran_order True only where np.save would write it: two axes longer than 1.
        cases.append(("|u1", (n, 2), False))
        cases.append(("|u1", (2, n), n > 1))
        if k <= 17:
            cases.append(("<f8", (n, 2), False))
            cases.append((">f8", (2, n), n > 1))
    cases.append(("|u1", (2**63 - 1,), False))
    cases.append((">c16", (3, 5, 7, 11, 13), False))
    cases.append(("<i2", (3, 5, 7, 11, 13), True))
    cases.append(("<f4", tuple([2] * 32), False))
    cases.append(("<f4", (), False))
    # Header texts of every length modulo 64 (each trailing axis of 1 adds three characters,
    # the digits of the second axis one or two more): catches a growth padding or 64-byte
    # rounding that is off by one, which a sweep at constant length cannot see.
    for ones in range(22):
        for j in range(3):
            cases.append(("<f8", (2, 10**j) + (1,) * ones, False))
            cases.append(("<i4", (3, 10**j) + (1,) * ones + (2,), True))
    for version in [(1, 0), (2, 0), (3, 0)]:
        # The whole sweep for 1.0; a sample for 2.0 and 3.0, which differ only in the preamble.
        for descr, shape, fortran in cases if version == (1, 0) else cases[:100:7] + cases[-5:]:
            d = {"descr": descr, "fortran_order": fortran, "shape": shape}
            buf = io.BytesIO()
            npformat._write_array_header(buf, d, version)
            plen = 10 if version == (1, 0) else 12
            manifest["headers"].append(
                {
                    "descr": descr,
                    "shape": [str(n) for n in shape],
                    "fortran_order": fortran,
                    "version": f"{version[0]}.{version[1]}",
                    # The preamble as hex, the (ASCII) header text as it is: half the size.
                    "preamble": buf.getvalue()[:plen].hex(),
                    "text": buf.getvalue()[plen:].decode("latin1"),
                }
            )


def long_headers():
    """Headers around the 1.0 -> 2.0 switch (a header longer than 65535 bytes).

    Only numeric dtypes are supported, so the only way to a long header is many dimensions;
    numpy's header writer does not limit them (ndarray does, to 64). Each entry keeps the
    preamble, the length and both ends of the text (the middle is "1, " repeated), which
    is all that can differ.
    """

    def header(ones, version):
        buf = io.BytesIO()
        d = {"descr": "<f8", "fortran_order": False, "shape": (1,) * ones}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Stored array in format 2.0"
            npformat._write_array_header(buf, d, version)
        return buf.getvalue()

    # The most dimensions that still fit version 1.0.
    ones = 21000
    while True:
        try:
            header(ones + 1, (1, 0))
        except ValueError:
            break
        ones += 1
    for n in [ones, ones + 1]:
        raw = header(n, None)
        plen = 10 if raw[6] == 1 else 12
        manifest["long_headers"].append(
            {
                "ones": n,
                "version": f"{raw[6]}.{raw[7]}",
                "len": len(raw),
                "preamble": raw[:plen].hex(),
                "head": raw[plen : plen + 80].decode("latin1"),
                "tail": raw[-80:].decode("latin1"),
            }
        )


def good_bytes(arr, version=(1, 0)):
    buf = io.BytesIO()
    npformat.write_array(buf, arr, version=version)
    return buf.getvalue()


def header_file(text, version=(1, 0), declared=None, data=b""):
    raw = text.encode("latin1")
    n = len(raw) if declared is None else declared
    size = n.to_bytes(2 if version[0] == 1 else 4, "little")
    return b"\x93NUMPY" + bytes(version) + size + raw + data


def malformed():
    """Files numpy refuses: numpy's own list (test_format.py) and the issue's cases."""
    base = good_bytes(np.arange(6, dtype="<f8").reshape(2, 3))
    dict_of = "{{'descr': {d}, 'fortran_order': {f}, 'shape': {s}, }}"
    cases = []
    # test_format.py: malformed_magic and bad_version_magic.
    for i, magic in enumerate(
        [b"\x92NUMPY\x01\x00", b"\x00NUMPY\x01\x00", b"\x93numpy\x01\x00", b"\x93MATLB\x01\x00"]
    ):
        cases.append((f"bad_magic_{i}", magic + base[8:]))
    cases.append(("magic_cut_version", b"\x93NUMPY\x01"))
    cases.append(("magic_only", b"\x93NUMPY"))
    cases.append(("empty_file", b""))
    for major, minor in [(1, 1), (0, 0), (0, 1), (2, 2), (255, 255), (4, 0)]:
        cases.append((f"bad_version_{major}_{minor}", b"\x93NUMPY" + bytes([major, minor]) + base[8:]))
    # test_bad_header: a length field cut short, a header shorter than declared.
    cases.append(("short_length_field", b"\x93NUMPY\x01\x00\x01"))
    cases.append(("short_length_field_v2", b"\x93NUMPY\x02\x00\x01\x00"))
    cases.append(("header_shorter_than_declared", b"\x93NUMPY\x01\x00\x00\x01{'descr': '<f8'"))
    # test_bad_header: missing and extra keys.
    cases.append(("missing_key", header_file("{'descr': '<f8', 'shape': (1, 2), }")))
    cases.append(
        (
            "extra_key",
            header_file("{'descr': '<f8', 'extrakey': -1, 'fortran_order': False, 'shape': (1, 2), }"),
        )
    )
    cases.append(("not_a_dict", header_file("[('descr', '<f8')]")))
    cases.append(("fortran_order_not_bool", header_file(dict_of.format(d="'<f8'", f="1", s="(2,)"))))
    cases.append(("shape_not_tuple", header_file(dict_of.format(d="'<f8'", f="False", s="[2]"))))
    cases.append(("negative_dim", header_file(dict_of.format(d="'<f8'", f="False", s="(-1,)"))))
    cases.append(("non_integer_dim", header_file(dict_of.format(d="'<f8'", f="False", s="(1.5,)"))))
    cases.append(
        (
            "overflowing_shape",
            header_file(dict_of.format(d="'<f8'", f="False", s="(4294967296, 4294967296)")),
        )
    )
    cases.append(
        (
            "overflowing_dim",
            header_file(dict_of.format(d="'<f8'", f="False", s="(100000000000000000000000,)")),
        )
    )
    cases.append(("unparsable_header", header_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,")))
    cases.append(("truncated_data", base[:-1]))
    cases.append(("truncated_data_0d", good_bytes(np.array(1.0, "<f8"))[:-3]))
    # test_file_truncated: an empty array's file cut by one byte loses the header's newline.
    cases.append(("truncated_empty", good_bytes(np.zeros((0, 3), "<f8"))[:-1]))
    cases.append(("huge_header_v2", header_file("{" + " " * 10001 + "}", version=(2, 0))))
    # Dtypes numpy reads but mmnpy refuses (object needs pickles; numpy refuses it too
    # without allow_pickle).
    obj = io.BytesIO()
    npformat.write_array(obj, np.array([1, "a", None], dtype=object), allow_pickle=True)
    cases.append(("object_dtype", obj.getvalue()))

    for name, data in cases:
        path = os.path.join(MALFORMED, name + ".npy")
        with open(path, "wb") as f:
            f.write(data)
        # format.read_array is what test_format.py calls (np.load would fall back to
        # unpickling a file without the magic); np.load with mmap_mode must refuse it too.
        errors = []
        for load in [
            lambda: npformat.read_array(open(path, "rb")),
            lambda: np.load(path, mmap_mode="r"),
        ]:
            try:
                load()
            except Exception as e:  # numpy raises ValueError, EOFError, OSError...
                errors.append(f"{type(e).__name__}: {str(e).splitlines()[0][:160]}")
            else:
                sys.exit(f"numpy accepted malformed fixture {name}")
        manifest["malformed"].append({"file": "malformed/" + name + ".npy", "numpy_error": errors[0]})


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(MALFORMED)
    arrays()
    headers()
    long_headers()
    malformed()
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(
            "# numpy-written fixtures\n\n"
            "Generated by `scripts/make_fixtures.py` (numpy %s); do not edit by hand.\n"
            "Regenerate with `/tmp/venv/bin/python scripts/make_fixtures.py` (any Python with\n"
            "numpy); `manifest.json` says what each file holds. The Rust tests (`tests/format.rs`,\n"
            "`tests/modes.rs`, `tests/cli_basic.rs`) read them and never run Python.\n" % np.__version__
        )
    manifest["numpy_version"] = np.__version__
    # One entry per line: readable in a diff, and a third of the size of indented JSON.
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write('{"numpy_version": %s,\n' % json.dumps(manifest["numpy_version"]))
        keys = ["arrays", "headers", "long_headers", "malformed"]
        for i, key in enumerate(keys):
            entries = ",\n".join(json.dumps(e) for e in manifest[key])
            f.write('"%s": [\n%s\n]%s\n' % (key, entries, "," if i < len(keys) - 1 else "}"))
    total = sum(
        os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(OUT) for n in names
    )
    count = sum(len(names) for _, _, names in os.walk(OUT))
    print(f"{count} files, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
