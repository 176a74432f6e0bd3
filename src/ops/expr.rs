//! NumPy basic-indexing expressions, parsed from text and resolved against a shape.
//!
//! This module is the pure core of slicing (like `csv-core`): it works on `&str` and shapes,
//! knows nothing of files or mappings, never allocates more than one entry per index, and is
//! linear in the length of the text, so it can be unit-tested and fuzzed on plain strings.
//!
//! Grammar (what numpy accepts inside `a[...]` for basic indexing):
//! `item (',' item)* [',']`, where an item is an integer (`-3`, `+2`, `1_000`), a slice
//! `[start] ':' [stop] [':' [step]]`, or `...`. Whitespace is allowed around every token, the
//! whole expression may be wrapped in `[` `]`, and the empty expression selects everything.
//! Resolution follows CPython's `PySlice_AdjustIndices` exactly: out-of-range slice bounds are
//! clamped, out-of-range integers and a zero step are errors.

use std::fmt;

use crate::error::{Error, ErrorKind, Result};

/// One item of an indexing expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexItem {
    /// An integer: selects one entry and drops the axis. Negative counts from the end.
    Index(i64),
    /// `start:stop:step`, each part optional.
    Slice {
        /// First index (default: the start, or the end for a negative step).
        start: Option<i64>,
        /// One past the last index (default: the end, or before the start for a negative step).
        stop: Option<i64>,
        /// Step (default 1; never 0 once resolved).
        step: Option<i64>,
    },
    /// `...`: as many full slices as needed to index every axis.
    Ellipsis,
}

/// A parsed indexing expression such as `10:900:7, ::-2` or `..., 0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct SliceExpr {
    items: Vec<IndexItem>,
}

/// What an expression selects along one axis of the input: `len` entries starting at `start`,
/// `step` apart (negative steps walk backwards). `keep` is false for an integer index, whose
/// axis is dropped from the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AxisSelection {
    /// First selected index (0 when nothing is selected).
    pub start: usize,
    /// Number of selected entries.
    pub len: usize,
    /// Distance between selected entries (never 0).
    pub step: isize,
    /// False when an integer index dropped this axis.
    pub keep: bool,
}

/// An expression resolved against a shape: one [`AxisSelection`] per input axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Selection {
    axes: Vec<AxisSelection>,
}

impl SliceExpr {
    /// Parse an expression. Errors name the byte offset and what was expected.
    ///
    /// ```
    /// use mmnpy::ops::{IndexItem, SliceExpr};
    /// let e = SliceExpr::parse("10:900:7, ::-2")?;
    /// assert_eq!(e.items()[1], IndexItem::Slice { start: None, stop: None, step: Some(-2) });
    /// # Ok::<(), mmnpy::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<SliceExpr> {
        Parser::new(text).parse()
    }

    /// The items in order.
    pub fn items(&self) -> &[IndexItem] {
        &self.items
    }

    /// Resolve against a shape with numpy's rules: an `...` (at most one) or missing trailing
    /// items stand for full slices; more items than axes, an out-of-range integer or a zero
    /// step are errors.
    pub fn resolve(&self, shape: &[usize]) -> Result<Selection> {
        let ellipses = self
            .items
            .iter()
            .filter(|i| matches!(i, IndexItem::Ellipsis))
            .count();
        if ellipses > 1 {
            return Err(Error::invalid(
                "an index can only have a single ellipsis ('...')",
            ));
        }
        let indexed = self.items.len() - ellipses;
        if indexed > shape.len() {
            return Err(Error::invalid(format!(
                "too many indices for array: array is {}-dimensional, but {indexed} were indexed",
                shape.len()
            )));
        }
        let full = IndexItem::Slice {
            start: None,
            stop: None,
            step: None,
        };
        let mut expanded = Vec::with_capacity(shape.len());
        for item in &self.items {
            match item {
                IndexItem::Ellipsis => {
                    expanded.extend(std::iter::repeat_n(full, shape.len() - indexed));
                }
                other => expanded.push(*other),
            }
        }
        expanded.resize(shape.len(), full);
        let axes = expanded
            .iter()
            .zip(shape)
            .enumerate()
            .map(|(axis, (item, &len))| resolve_item(*item, axis, len))
            .collect::<Result<Vec<_>>>()?;
        Ok(Selection { axes })
    }
}

impl std::str::FromStr for SliceExpr {
    type Err = Error;
    fn from_str(s: &str) -> Result<SliceExpr> {
        SliceExpr::parse(s)
    }
}

impl fmt::Display for SliceExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match item {
                IndexItem::Index(v) => write!(f, "{v}")?,
                IndexItem::Ellipsis => f.write_str("...")?,
                IndexItem::Slice { start, stop, step } => {
                    let part = |v: &Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                    write!(f, "{}:{}", part(start), part(stop))?;
                    if step.is_some() {
                        write!(f, ":{}", part(step))?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn resolve_item(item: IndexItem, axis: usize, len: usize) -> Result<AxisSelection> {
    match item {
        IndexItem::Index(i) => {
            let resolved = if i < 0 {
                i as i128 + len as i128
            } else {
                i as i128
            };
            if resolved < 0 || resolved >= len as i128 {
                return Err(ErrorKind::IndexOutOfBounds {
                    index: i,
                    axis,
                    len,
                }
                .into());
            }
            Ok(AxisSelection {
                start: resolved as usize,
                len: 1,
                step: 1,
                keep: false,
            })
        }
        IndexItem::Slice { start, stop, step } => resolve_slice(start, stop, step, len),
        IndexItem::Ellipsis => unreachable!("ellipses are expanded before resolution"),
    }
}

/// Resolve `start:stop:step` on an axis of `len` entries exactly as CPython's
/// `PySlice_AdjustIndices` does (closed form; see the naive twin in the tests).
pub fn resolve_slice(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    len: usize,
) -> Result<AxisSelection> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::invalid("slice step cannot be zero"));
    }
    // CPython clamps the step to [-PY_SSIZE_T_MAX, PY_SSIZE_T_MAX].
    let step = i128::from(step.max(-i64::MAX));
    let n = len as i128;
    let backwards = step < 0;
    let adjust = |bound: Option<i64>, default: i128| match bound {
        None => default,
        Some(b) => {
            let b = i128::from(b);
            if b < 0 {
                let b = b + n;
                if b < 0 {
                    if backwards { -1 } else { 0 }
                } else {
                    b
                }
            } else if b >= n {
                if backwards { n - 1 } else { n }
            } else {
                b
            }
        }
    };
    let first = adjust(start, if backwards { n - 1 } else { 0 });
    let end = adjust(stop, if backwards { -1 } else { n });
    let count = if backwards {
        if end < first {
            (first - end - 1) / (-step) + 1
        } else {
            0
        }
    } else if first < end {
        (end - first - 1) / step + 1
    } else {
        0
    };
    // A step larger than the axis selects at most one entry; keep it in isize range.
    let step = step.clamp(-(isize::MAX as i128), isize::MAX as i128) as isize;
    Ok(AxisSelection {
        start: if count == 0 { 0 } else { first as usize },
        len: count as usize,
        step,
        keep: true,
    })
}

impl AxisSelection {
    /// The selected indices, in order (for tests and small axes).
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).map(move |k| (self.start as isize + k as isize * self.step) as usize)
    }

    /// The same selection as an `ndarray` slice of the axis.
    pub fn to_ndarray(&self) -> ndarray::Slice {
        if self.len == 0 {
            return ndarray::Slice::new(0, Some(0), 1);
        }
        let start = self.start as isize;
        let span = (self.len as isize - 1) * self.step;
        if self.step > 0 {
            ndarray::Slice::new(start, Some(start + span + 1), self.step)
        } else {
            // ndarray walks a negative step backwards from the end of the range.
            ndarray::Slice::new(start + span, Some(start + 1), self.step)
        }
    }
}

impl Selection {
    /// One selection per input axis.
    pub fn axes(&self) -> &[AxisSelection] {
        &self.axes
    }

    /// Shape of the result: the lengths of the kept axes.
    pub fn shape(&self) -> Vec<usize> {
        self.axes.iter().filter(|a| a.keep).map(|a| a.len).collect()
    }

    /// Number of selected elements.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.len).product()
    }

    /// True when nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Apply to a view of an array of the shape this selection was resolved against: a
    /// zero-copy view of the selected entries, shaped like numpy's `a[expr]`.
    ///
    /// # Panics
    /// If `view` does not have the shape the selection was resolved against.
    pub fn apply<'a, T>(&self, mut view: ndarray::ArrayViewD<'a, T>) -> ndarray::ArrayViewD<'a, T> {
        assert_eq!(
            view.ndim(),
            self.axes.len(),
            "selection resolved for another shape"
        );
        for (k, axis) in self.axes.iter().enumerate() {
            view.slice_axis_inplace(ndarray::Axis(k), axis.to_ndarray());
        }
        for (k, axis) in self.axes.iter().enumerate().rev() {
            if !axis.keep {
                view = view.index_axis_move(ndarray::Axis(k), 0);
            }
        }
        view
    }
}

/// A linear, single-pass parser over the bytes of the expression.
struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Parser<'t> {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn error(&self, what: &str) -> Error {
        let shown: String = self.text.chars().take(80).collect();
        let ellipsis = if shown.len() < self.text.len() {
            "..."
        } else {
            ""
        };
        Error::invalid(format!(
            "invalid index expression {shown:?}{ellipsis}: {what} at byte {}",
            self.pos
        ))
    }

    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn parse(mut self) -> Result<SliceExpr> {
        self.skip_ws();
        let bracketed = self.peek() == Some(b'[');
        if bracketed {
            self.pos += 1;
        }
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None if !bracketed => break,
                Some(b']') if bracketed => break,
                None => return Err(self.error("missing ']'")),
                _ => {}
            }
            items.push(self.item()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                None if !bracketed => break,
                Some(b']') if bracketed => break,
                None => return Err(self.error("missing ']'")),
                Some(_) => return Err(self.error("expected ',' between indices")),
            }
        }
        if bracketed {
            self.pos += 1; // the ']'
            self.skip_ws();
            if self.pos < self.bytes.len() {
                return Err(self.error("unexpected text after ']'"));
            }
        }
        Ok(SliceExpr { items })
    }

    fn item(&mut self) -> Result<IndexItem> {
        if self.bytes[self.pos..].starts_with(b"...") {
            self.pos += 3;
            return Ok(IndexItem::Ellipsis);
        }
        let start = self.integer()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return match start {
                Some(i) => Ok(IndexItem::Index(
                    i.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
                )),
                None => Err(self.error("expected an integer, a slice or '...'")),
            };
        }
        self.pos += 1;
        self.skip_ws();
        let stop = self.integer()?;
        self.skip_ws();
        let mut step = None;
        if self.peek() == Some(b':') {
            self.pos += 1;
            self.skip_ws();
            step = self.integer()?;
        }
        // Python accepts arbitrarily large slice bounds and clamps them; saturating to i64
        // selects the same entries on any axis that fits in memory.
        let sat = |v: Option<i128>| v.map(|v| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
        Ok(IndexItem::Slice {
            start: sat(start),
            stop: sat(stop),
            step: sat(step),
        })
    }

    /// An optional integer: `[+-]digits` with `_` allowed between digits, as Python writes
    /// them. Saturates far beyond i64 instead of failing (see `item`).
    fn integer(&mut self) -> Result<Option<i128>> {
        let negative = match self.peek() {
            Some(b'-') => true,
            Some(b'+') => false,
            Some(b) if b.is_ascii_digit() => {
                return self.digits(false).map(Some);
            }
            _ => return Ok(None),
        };
        self.pos += 1;
        self.skip_ws();
        match self.peek() {
            Some(b) if b.is_ascii_digit() => self.digits(negative).map(Some),
            _ => Err(self.error("expected digits after the sign")),
        }
    }

    fn digits(&mut self, negative: bool) -> Result<i128> {
        let mut value: i128 = 0;
        let mut last_underscore = false;
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' => {
                    // Saturate: anything beyond 2^100 behaves the same as 2^100.
                    value = (value * 10 + i128::from(b - b'0')).min(1 << 100);
                    last_underscore = false;
                }
                b'_' if !last_underscore => last_underscore = true,
                _ => break,
            }
            self.pos += 1;
        }
        if last_underscore {
            return Err(self.error("an integer cannot end with '_'"));
        }
        Ok(if negative { -value } else { value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The naive twin of `resolve_slice`: walk the axis one step at a time after clamping
    /// the bounds the way the Python docs describe, collecting indices.
    fn naive_indices(start: Option<i64>, stop: Option<i64>, step: i64, len: usize) -> Vec<usize> {
        let n = len as i128;
        let step = i128::from(step);
        let norm = |b: i64| {
            let b = i128::from(b);
            if b < 0 { b + n } else { b }
        };
        let mut out = Vec::new();
        if step > 0 {
            let lo = start.map_or(0, norm).max(0);
            let hi = stop.map_or(n, norm).min(n);
            let mut i = lo;
            while i < hi {
                out.push(i as usize);
                i += step;
            }
        } else {
            let hi = start.map_or(n - 1, norm).min(n - 1);
            let lo = stop.map_or(-1, norm).max(-1);
            let mut i = hi;
            while i > lo {
                out.push(i as usize);
                i += step;
            }
        }
        out
    }

    proptest! {
        #[test]
        fn closed_form_slice_equals_naive_walk(
            len in 0usize..40,
            start in proptest::option::of(-60i64..60),
            stop in proptest::option::of(-60i64..60),
            step in prop_oneof![-45i64..-1, 1i64..45, Just(-1i64), Just(1i64)],
        ) {
            let sel = resolve_slice(start, stop, Some(step), len).unwrap();
            let got: Vec<usize> = sel.indices().collect();
            prop_assert_eq!(got, naive_indices(start, stop, step, len));
        }

        #[test]
        fn display_then_parse_is_identity(items in proptest::collection::vec(
            prop_oneof![
                (-1000i64..1000).prop_map(IndexItem::Index),
                (proptest::option::of(-99i64..99), proptest::option::of(-99i64..99),
                 proptest::option::of(-9i64..9))
                    .prop_map(|(start, stop, step)| IndexItem::Slice { start, stop, step }),
                Just(IndexItem::Ellipsis),
            ], 0..6)) {
            let e = SliceExpr { items };
            prop_assert_eq!(SliceExpr::parse(&e.to_string()).unwrap(), e);
        }

        #[test]
        fn parser_never_panics(text in "[-+0-9:., _\\[\\]a]{0,30}") {
            let _ = SliceExpr::parse(&text);
        }
    }

    #[test]
    fn parses_numpy_spellings() {
        let s = |start, stop, step| IndexItem::Slice { start, stop, step };
        let cases: &[(&str, Vec<IndexItem>)] = &[
            ("", vec![]),
            ("[]", vec![]),
            (":", vec![s(None, None, None)]),
            ("::", vec![s(None, None, None)]),
            ("  1 : -2 : 3 ", vec![s(Some(1), Some(-2), Some(3))]),
            ("[5, ...]", vec![IndexItem::Index(5), IndexItem::Ellipsis]),
            ("-1,", vec![IndexItem::Index(-1)]),
            ("+1_000", vec![IndexItem::Index(1000)]),
            (
                "::-1, 0",
                vec![s(None, None, Some(-1)), IndexItem::Index(0)],
            ),
        ];
        for (text, items) in cases {
            assert_eq!(&SliceExpr::parse(text).unwrap().items, items, "{text:?}");
        }
    }

    #[test]
    fn rejects_malformed_text_with_a_position() {
        for bad in [
            "a", "1 2", "1:2:3:4", "1,,2", "[1", "1]", "-", "1_", "1__0", ". ..", "1 : x",
        ] {
            let e = SliceExpr::parse(bad).unwrap_err().to_string();
            assert!(e.contains("at byte"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn resolution_errors_follow_numpy() {
        let shape = [4, 5];
        let err = |t: &str| {
            SliceExpr::parse(t)
                .unwrap()
                .resolve(&shape)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err("4"), "index 4 is out of bounds for axis 0 with size 4");
        assert_eq!(
            err(":, -6"),
            "index -6 is out of bounds for axis 1 with size 5"
        );
        assert_eq!(err("::0"), "slice step cannot be zero");
        assert!(err("1,2,3").starts_with("too many indices"));
        assert!(err("...,...").contains("single ellipsis"));
    }

    #[test]
    fn ellipsis_and_missing_items_are_full_slices() {
        let shape = [2, 3, 4];
        let sel = SliceExpr::parse("..., 1").unwrap().resolve(&shape).unwrap();
        assert_eq!(sel.shape(), vec![2, 3]);
        let sel = SliceExpr::parse("1").unwrap().resolve(&shape).unwrap();
        assert_eq!(sel.shape(), vec![3, 4]);
        let sel = SliceExpr::parse("1, ..., ::-2")
            .unwrap()
            .resolve(&shape)
            .unwrap();
        assert_eq!(sel.shape(), vec![3, 2]);
        assert_eq!(sel.axes()[2].indices().collect::<Vec<_>>(), vec![3, 1]);
    }
}
