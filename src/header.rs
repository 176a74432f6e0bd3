//! The `.npy` header: a guarded reader and a writer whose output is byte-identical to
//! `np.save` (numpy's `lib/_format_impl.py`).
//!
//! Everything here works on bytes and knows nothing of files or mappings, so it can be tested
//! and fuzzed on plain slices. The header dictionary is parsed by a small, linear-time parser
//! of exactly the grammar numpy writes for numeric arrays (a dict of a string, a bool and a
//! tuple of integers); it never recurses, so a header that nests brackets cannot blow the stack
//! or take exponential time, and its errors quote at most a few bytes of the header.

use std::io::Read;

use crate::dtype::DType;
use crate::error::{Error, ErrorKind, Result};

/// The six bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// numpy's default `max_header_size`: longer headers are refused before being read.
pub const DEFAULT_MAX_HEADER_SIZE: u64 = 10_000;

/// Data starts at a multiple of this (numpy's `ARRAY_ALIGN`).
const ARRAY_ALIGN: usize = 64;

/// numpy leaves room for the growth axis to reach this many digits (`GROWTH_AXIS_MAX_DIGITS`),
/// so a file can be appended to by rewriting its header in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// Format version of a `.npy` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// 1.0: u16 header length, latin-1 header.
    V1,
    /// 2.0: u32 header length, latin-1 header.
    V2,
    /// 3.0: u32 header length, UTF-8 header.
    V3,
}

impl Version {
    /// `(major, minor)`.
    pub const fn number(self) -> (u8, u8) {
        match self {
            Version::V1 => (1, 0),
            Version::V2 => (2, 0),
            Version::V3 => (3, 0),
        }
    }

    /// `"1.0"`, `"2.0"` or `"3.0"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "1.0",
            Version::V2 => "2.0",
            Version::V3 => "3.0",
        }
    }

    /// Bytes before the header text: magic, version, length field.
    pub const fn preamble_len(self) -> usize {
        match self {
            Version::V1 => 10,
            Version::V2 | Version::V3 => 12,
        }
    }

    /// Parse `1`, `2`, `3`, `1.0`, `2.0`, `3.0`.
    pub fn parse(s: &str) -> Result<Version> {
        match s {
            "1" | "1.0" => Ok(Version::V1),
            "2" | "2.0" => Ok(Version::V2),
            "3" | "3.0" => Ok(Version::V3),
            _ => Err(Error::invalid(format!(
                "unknown .npy version {s:?} (expected 1, 2 or 3)"
            ))),
        }
    }

    fn from_bytes(major: u8, minor: u8) -> Result<Version> {
        match (major, minor) {
            (1, 0) => Ok(Version::V1),
            (2, 0) => Ok(Version::V2),
            (3, 0) => Ok(Version::V3),
            _ => Err(ErrorKind::UnsupportedVersion { major, minor }.into()),
        }
    }
}

/// Memory order of the elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Row-major, last index fastest (`fortran_order: False`).
    #[default]
    C,
    /// Column-major, first index fastest (`fortran_order: True`).
    Fortran,
}

impl Order {
    /// `C` or `F` (either case).
    pub fn parse(s: &str) -> Result<Order> {
        match s {
            "C" | "c" => Ok(Order::C),
            "F" | "f" | "fortran" | "Fortran" => Ok(Order::Fortran),
            _ => Err(Error::invalid(format!(
                "unknown order {s:?} (expected C or F)"
            ))),
        }
    }
}

/// A parsed or to-be-written `.npy` header. The element and byte counts are checked for
/// overflow when a header is made, so every `Header` describes an addressable array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    dtype: DType,
    descr: String,
    order: Order,
    shape: Vec<usize>,
    version: Version,
    data_offset: u64,
    len: usize,
    nbytes: u64,
}

impl Header {
    /// A header for a new array, with the version and data offset `np.save` would choose
    /// (1.0 unless the header is too long for it).
    pub fn new(dtype: DType, shape: &[usize], order: Order) -> Result<Header> {
        Header::with_version(dtype, shape, order, None)
    }

    /// Like [`Header::new`] with an explicit format version (`None`: as numpy chooses).
    pub fn with_version(
        dtype: DType,
        shape: &[usize],
        order: Order,
        version: Option<Version>,
    ) -> Result<Header> {
        let (len, nbytes) = counts(dtype, shape)?;
        let mut header = Header {
            dtype,
            descr: dtype.descr(),
            order: normalize_order(order, shape),
            shape: shape.to_vec(),
            version: Version::V1,
            data_offset: 0,
            len,
            nbytes,
        };
        let (chosen, bytes) = header.encode_choosing(version)?;
        header.version = chosen;
        header.data_offset = bytes.len() as u64;
        Ok(header)
    }

    /// Read and parse a header from the start of a file. The length field is checked against
    /// `max_header_size` before anything is allocated. `file_len` (when known) only improves
    /// the error for a file that ends inside the header.
    pub fn read_from<R: Read>(
        reader: &mut R,
        max_header_size: u64,
        file_len: Option<u64>,
    ) -> Result<Header> {
        let mut preamble = [0u8; 12];
        let got = read_up_to(reader, &mut preamble[..10])?;
        let found = file_len.unwrap_or(got as u64);
        if got < 6 || &preamble[..6] != MAGIC {
            if got >= 6 || !MAGIC.starts_with(&preamble[..got]) {
                return Err(ErrorKind::BadMagic.into());
            }
            return Err(truncated("preamble", 10, found));
        }
        if got < 8 {
            return Err(truncated("preamble", 10, found));
        }
        let version = Version::from_bytes(preamble[6], preamble[7])?;
        let plen = version.preamble_len();
        let got = got + read_up_to(reader, &mut preamble[10..plen])?;
        if got < plen {
            return Err(truncated(
                "preamble",
                plen as u64,
                file_len.unwrap_or(got as u64),
            ));
        }
        let header_len = match version {
            Version::V1 => u64::from(u16::from_le_bytes([preamble[8], preamble[9]])),
            _ => u64::from(u32::from_le_bytes([
                preamble[8],
                preamble[9],
                preamble[10],
                preamble[11],
            ])),
        };
        if header_len > max_header_size {
            return Err(ErrorKind::HeaderTooLarge {
                len: header_len,
                max: max_header_size,
            }
            .into());
        }
        let mut text = vec![0u8; header_len as usize];
        let got_text = read_up_to(reader, &mut text)?;
        if got_text < text.len() {
            return Err(truncated(
                "header",
                plen as u64 + header_len,
                file_len.unwrap_or((plen + got_text) as u64),
            ));
        }
        Header::parse_dict(version, &text, plen as u64 + header_len)
    }

    /// Parse a whole header from bytes (the start of a file, at least through the header).
    pub fn parse(bytes: &[u8], max_header_size: u64) -> Result<Header> {
        Header::read_from(&mut &bytes[..], max_header_size, Some(bytes.len() as u64))
    }

    fn parse_dict(version: Version, raw: &[u8], data_offset: u64) -> Result<Header> {
        let text: std::borrow::Cow<'_, str> = match version {
            Version::V3 => std::str::from_utf8(raw)
                .map_err(|e| {
                    invalid_header(format!(
                        "not valid UTF-8 at byte {} of the header",
                        e.valid_up_to()
                    ))
                })?
                .into(),
            // latin-1: every byte is a character; the grammar itself is ASCII.
            _ => raw.iter().map(|&b| b as char).collect::<String>().into(),
        };
        let dict = DictParser::new(&text, version != Version::V3).parse()?;
        let dtype = DType::parse(&dict.descr)?;
        let (len, nbytes) = counts(dtype, &dict.shape)?;
        Ok(Header {
            dtype,
            descr: dict.descr,
            order: if dict.fortran_order {
                Order::Fortran
            } else {
                Order::C
            },
            shape: dict.shape,
            version,
            data_offset,
            len,
            nbytes,
        })
    }

    /// Encode the header as `np.save` writes it: sorted keys, growth padding for the
    /// appendable axis, spaces to a 64-byte boundary and a newline. With `version: None`,
    /// 1.0 if it fits, else 2.0.
    pub fn encode(&self, version: Option<Version>) -> Result<Vec<u8>> {
        Ok(self.encode_choosing(version)?.1)
    }

    fn encode_choosing(&self, version: Option<Version>) -> Result<(Version, Vec<u8>)> {
        let fortran = self.order == Order::Fortran;
        let mut text = format!(
            "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}",
            self.descr,
            if fortran { "True" } else { "False" },
            shape_repr(&self.shape)
        );
        let growth_axis = if fortran {
            self.shape.last()
        } else {
            self.shape.first()
        };
        if let Some(n) = growth_axis {
            let digits = n.to_string().len();
            text.extend(std::iter::repeat_n(
                ' ',
                GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
            ));
        }
        match version {
            Some(v) => Ok((v, wrap(&text, v)?)),
            None => wrap(&text, Version::V1)
                .map(|b| (Version::V1, b))
                .or_else(|_| Ok((Version::V2, wrap(&text, Version::V2)?))),
        }
    }

    /// The encoding of this header at its own version.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.encode(Some(self.version))
    }

    /// The same array description with another shape (checked), re-encoded at the same
    /// version if possible. Used to grow a file in place.
    pub fn with_shape(&self, shape: &[usize]) -> Result<Header> {
        let mut h = Header::with_version(self.dtype, shape, self.order, Some(self.version))?;
        h.descr.clone_from(&self.descr);
        Ok(h)
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The descr exactly as written in the header (e.g. `<f8`, or `f8`).
    pub fn descr(&self) -> &str {
        &self.descr
    }

    /// Memory order.
    pub fn order(&self) -> Order {
        self.order
    }

    /// True for `fortran_order: True`.
    pub fn fortran_order(&self) -> bool {
        self.order == Order::Fortran
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Offset of the first data byte from the start of the file.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// Number of elements (1 for a 0-d array).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of data.
    pub fn nbytes(&self) -> u64 {
        self.nbytes
    }

    /// `data_offset + nbytes`: the least file length that holds the array.
    pub fn end(&self) -> Result<u64> {
        self.data_offset
            .checked_add(self.nbytes)
            .ok_or(ErrorKind::Overflow("file size").into())
    }
}

/// numpy writes `fortran_order: True` only for arrays that are F- but not C-contiguous; when the
/// two layouts coincide (at most one axis longer than 1, or no elements) it writes `False`.
fn normalize_order(order: Order, shape: &[usize]) -> Order {
    let coincide = shape.contains(&0) || shape.iter().filter(|&&n| n > 1).count() <= 1;
    if coincide { Order::C } else { order }
}

fn counts(dtype: DType, shape: &[usize]) -> Result<(usize, u64)> {
    let len = shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or(ErrorKind::Overflow("element count of the shape"))?;
    let nbytes = len
        .checked_mul(dtype.itemsize())
        .filter(|&b| isize::try_from(b).is_ok())
        .ok_or(ErrorKind::Overflow("byte size of the array"))?;
    Ok((len, nbytes as u64))
}

fn shape_repr(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

fn wrap(text: &str, version: Version) -> Result<Vec<u8>> {
    let encoded: Vec<u8> = match version {
        Version::V3 => text.as_bytes().to_vec(),
        _ => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)))
            .collect::<Result<_, _>>()
            .map_err(|_| Error::invalid("header is not latin-1: it needs format version 3.0"))?,
    };
    let plen = version.preamble_len();
    let hlen = encoded.len() + 1;
    let padlen = ARRAY_ALIGN - (plen + hlen) % ARRAY_ALIGN;
    let total_len = hlen + padlen;
    let (major, minor) = version.number();
    let mut out = Vec::with_capacity(plen + total_len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[major, minor]);
    match version {
        Version::V1 => {
            let n = u16::try_from(total_len).map_err(|_| {
                Error::invalid(format!("header length {hlen} too big for version 1.0"))
            })?;
            out.extend_from_slice(&n.to_le_bytes());
        }
        _ => {
            let n = u32::try_from(total_len)
                .map_err(|_| Error::invalid(format!("header length {hlen} too big")))?;
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
    out.extend_from_slice(&encoded);
    out.extend(std::iter::repeat_n(b' ', padlen));
    out.push(b'\n');
    Ok(out)
}

fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read header", e)),
        }
    }
    Ok(got)
}

fn truncated(what: &'static str, needed: u64, found: u64) -> Error {
    ErrorKind::Truncated {
        what,
        needed,
        found,
    }
    .into()
}

/// What the value of a key must be, for error messages.
fn expected_value(key: &str) -> &'static str {
    match key {
        "descr" => "a dtype string",
        "fortran_order" => "True or False",
        _ => "a tuple of integers",
    }
}

fn invalid_header(msg: String) -> Error {
    ErrorKind::InvalidHeader(msg).into()
}

/// The three values of a header dictionary.
struct Dict {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A cursor over the header text for the grammar
/// `{ 'key': value, ... }` where a value is a quoted string, `True`/`False`, or a tuple of
/// integers. Linear time, no recursion.
struct DictParser<'a> {
    text: &'a str,
    pos: usize,
    /// Accept Python 2's long suffix (`3L`), as numpy does for 1.0/2.0 headers.
    allow_long_suffix: bool,
}

enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

impl<'a> DictParser<'a> {
    fn new(text: &'a str, allow_long_suffix: bool) -> Self {
        DictParser {
            text,
            pos: 0,
            allow_long_suffix,
        }
    }

    fn err(&self, what: &str) -> Error {
        let near: String = self.text[self.pos..].chars().take(12).collect();
        if near.is_empty() {
            invalid_header(format!("{what} at end of header"))
        } else {
            invalid_header(format!("{what} at byte {} (near {near:?})", self.pos))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected {what}")))
        }
    }

    fn parse(mut self) -> Result<Dict> {
        self.expect(b'{', "'{' opening the header dictionary")?;
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        loop {
            if self.eat(b'}') {
                break;
            }
            self.skip_ws();
            let key_pos = self.pos;
            let key = self.string()?;
            if !matches!(key.as_str(), "descr" | "fortran_order" | "shape") {
                self.pos = key_pos;
                return Err(invalid_header(format!(
                    "unexpected key {:?} (expected exactly 'descr', 'fortran_order', 'shape')",
                    key.chars().take(20).collect::<String>()
                )));
            }
            self.expect(b':', "':' after a key")?;
            let value = self.value(&key)?;
            let slot_taken = match (key.as_str(), value) {
                ("descr", Value::Str(s)) => descr.replace(s).is_some(),
                ("fortran_order", Value::Bool(b)) => fortran.replace(b).is_some(),
                ("shape", Value::Tuple(t)) => shape.replace(t).is_some(),
                ("descr", _) => return Err(invalid_header("'descr' is not a string".into())),
                ("fortran_order", _) => {
                    return Err(invalid_header("'fortran_order' is not a bool".into()));
                }
                ("shape", _) => {
                    return Err(invalid_header("'shape' is not a tuple of integers".into()));
                }
                _ => unreachable!("keys were checked above"),
            };
            if slot_taken {
                return Err(invalid_header(format!("duplicate key {key:?}")));
            }
            if !self.eat(b',') {
                self.expect(b'}', "',' or '}' after a value")?;
                break;
            }
        }
        self.skip_ws();
        if self.pos != self.text.len() {
            return Err(self.err("unexpected text after the header dictionary"));
        }
        let missing = |k: &str| invalid_header(format!("missing key '{k}'"));
        Ok(Dict {
            descr: descr.ok_or_else(|| missing("descr"))?,
            fortran_order: fortran.ok_or_else(|| missing("fortran_order"))?,
            shape: shape.ok_or_else(|| missing("shape"))?,
        })
    }

    fn string(&mut self) -> Result<String> {
        self.skip_ws();
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.err("expected a quoted string")),
        };
        let start = self.pos + 1;
        let rest = &self.text.as_bytes()[start..];
        let len = rest
            .iter()
            .position(|&b| b == quote || b == b'\\' || b == b'\n')
            .filter(|&i| rest[i] == quote)
            .ok_or_else(|| self.err("unterminated or escaped string"))?;
        self.pos = start + len + 1;
        Ok(self.text[start..start + len].to_string())
    }

    /// The value of `key`, which names it in errors.
    fn value(&mut self, key: &str) -> Result<Value> {
        self.skip_ws();
        match self.peek() {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => self.tuple(),
            // A list descr is a structured dtype: refuse it by what it is, not as bad syntax.
            Some(b'[') if key == "descr" => Err(ErrorKind::UnsupportedDType {
                descr: "[...]".into(),
                why: "structured (record) dtypes are not supported",
            }
            .into()),
            Some(b'[') => Err(invalid_header(format!(
                "'{key}' is a list; expected {}",
                expected_value(key)
            ))),
            _ => {
                let rest = &self.text[self.pos..];
                for (word, b) in [("True", true), ("False", false)] {
                    if rest.starts_with(word)
                        && !rest[word.len()..]
                            .bytes()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        self.pos += word.len();
                        return Ok(Value::Bool(b));
                    }
                }
                Err(self.err(&format!("expected {} for '{key}'", expected_value(key))))
            }
        }
    }

    fn tuple(&mut self) -> Result<Value> {
        self.expect(b'(', "'('")?;
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(b')') {
                break;
            }
            items.push(self.dimension()?);
            trailing_comma = self.eat(b',');
            if !trailing_comma {
                self.expect(b')', "',' or ')' in the shape")?;
                break;
            }
        }
        if items.len() == 1 && !trailing_comma {
            // `(3)` is the integer 3 in Python, not a tuple.
            return Err(invalid_header("'shape' is not a tuple of integers".into()));
        }
        Ok(Value::Tuple(items))
    }

    fn dimension(&mut self) -> Result<usize> {
        self.skip_ws();
        let negative = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = &self.text[start..self.pos];
        if digits.is_empty() {
            return Err(self.err("expected an integer dimension"));
        }
        if digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
            return Err(self.err("leading zeros in an integer"));
        }
        if self.allow_long_suffix && matches!(self.peek(), Some(b'L' | b'l')) {
            self.pos += 1;
        }
        if self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        {
            return Err(self.err("dimension is not an integer"));
        }
        let all_zero = digits.bytes().all(|b| b == b'0');
        if negative && !all_zero {
            return Err(invalid_header(format!(
                "negative dimension -{digits} in 'shape'"
            )));
        }
        digits
            .parse::<usize>()
            .map_err(|_| ErrorKind::Overflow("a dimension of the shape").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::Scalar;

    fn file_with(version: (u8, u8), text: &str) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&[version.0, version.1]);
        if version.0 == 1 {
            v.extend_from_slice(&(text.len() as u16).to_le_bytes());
        } else {
            v.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
        v.extend_from_slice(text.as_bytes());
        v
    }

    #[test]
    fn writes_what_numpy_writes() {
        // np.save of np.zeros((2, 3)) — 128-byte header.
        let h = Header::new(DType::native(Scalar::F64), &[2, 3], Order::C).unwrap();
        let bytes = h.to_bytes().unwrap();
        let expected_text = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
        assert_eq!(bytes.len(), 128);
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 118);
        assert!(bytes[10..].starts_with(expected_text.as_bytes()));
        assert_eq!(bytes[127], b'\n');
        assert_eq!(h.data_offset(), 128);
        let reread = Header::parse(&bytes, DEFAULT_MAX_HEADER_SIZE).unwrap();
        assert_eq!(reread, h);
    }

    #[test]
    fn reads_the_grammar_variants_numpy_reads() {
        for text in [
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
            "{\"descr\":\"<f8\",\"fortran_order\":False,\"shape\":(2,3)}   \n",
            "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }",
        ] {
            let h = Header::parse(&file_with((1, 0), text), 10_000).unwrap();
            assert_eq!(h.shape(), &[2, 3], "{text}");
            assert_eq!(h.len(), 6);
        }
        let h = Header::parse(
            &file_with(
                (1, 0),
                "{'descr': '|b1', 'fortran_order': True, 'shape': (), }",
            ),
            10_000,
        )
        .unwrap();
        assert_eq!((h.shape(), h.len(), h.fortran_order()), (&[][..], 1, true));
    }

    #[test]
    fn refuses_malformed_headers_with_a_short_message() {
        let cases: &[(&str, &str)] = &[
            (
                "{'descr': '<f8', 'fortran_order': False}",
                "missing key 'shape'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                "unexpected key",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}",
                "expected True or False for 'fortran_order'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
                "negative dimension",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,)}",
                "not an integer",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3)}",
                "not a tuple",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': [3]}",
                "'shape' is a list",
            ),
            (
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,)}",
                "structured",
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (3,)}",
                "object",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                "overflows",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
                "overflows",
            ),
            (
                "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                "duplicate",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': ()} x",
                "after the header",
            ),
            ("", "expected '{'"),
        ];
        for (text, needle) in cases {
            let err = Header::parse(&file_with((1, 0), text), 10_000)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(err.len() < 200, "message too long: {err}");
        }
    }

    #[test]
    fn nesting_bombs_are_rejected_in_linear_time() {
        let text = format!("{{'descr': {}", "[".repeat(9000));
        let start = std::time::Instant::now();
        assert!(Header::parse(&file_with((1, 0), &text), 10_000).is_err());
        let text = format!("{{'descr': '<f8', 'shape': {}", "(".repeat(9000));
        assert!(Header::parse(&file_with((1, 0), &text), 10_000).is_err());
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn checks_preamble_and_size_limit() {
        let ok = Header::new(DType::native(Scalar::U8), &[4], Order::C)
            .unwrap()
            .to_bytes()
            .unwrap();
        let mut bad = ok.clone();
        bad[0] = b'x';
        assert!(matches!(
            Header::parse(&bad, 10_000).unwrap_err().kind(),
            ErrorKind::BadMagic
        ));
        let mut bad = ok.clone();
        bad[6] = 4;
        assert!(matches!(
            Header::parse(&bad, 10_000).unwrap_err().kind(),
            ErrorKind::UnsupportedVersion { major: 4, minor: 0 }
        ));
        for cut in [0, 3, 6, 7, 9, 20] {
            let e = Header::parse(&ok[..cut], 10_000).unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::Truncated { .. }),
                "cut {cut}: {e}"
            );
        }
        let e = Header::parse(&ok, 50).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::HeaderTooLarge { len: 118, max: 50 }
        ));
    }

    #[test]
    fn version_3_must_be_utf8() {
        let mut bytes = file_with(
            (3, 0),
            "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
        );
        let n = bytes.len();
        bytes[n - 3] = 0xff;
        let e = Header::parse(&bytes, 10_000).unwrap_err().to_string();
        assert!(e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn fortran_order_is_written_only_when_layouts_differ() {
        let f = DType::native(Scalar::F32);
        assert_eq!(
            Header::new(f, &[5], Order::Fortran).unwrap().order(),
            Order::C
        );
        assert_eq!(
            Header::new(f, &[1, 5], Order::Fortran).unwrap().order(),
            Order::C
        );
        assert_eq!(
            Header::new(f, &[2, 5], Order::Fortran).unwrap().order(),
            Order::Fortran
        );
    }
}
