//! The engine against numpy: committed fixtures (written by `scripts/make_engine_fixtures.py`)
//! with numpy's answers for whole-array stats, stats along every axis, and histograms; and the
//! `stats` / `hist` commands end to end.

use std::path::{Path, PathBuf};

use crate::fixture::mmnpy;
use mmnpy::NpyFile;
use mmnpy::engine::{PassOptions, Stats, Value, histogram, stats, stats_axis};
use serde_json::Value as Json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/engine")
}

fn answers() -> serde_json::Map<String, Json> {
    let text = std::fs::read_to_string(fixtures().join("answers.json")).unwrap();
    serde_json::from_str::<Json>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn close(ours: f64, theirs: f64, scale: f64, what: &str) {
    let tol = 1e-12 * scale.max(1.0);
    assert!(
        (ours - theirs).abs() <= tol,
        "{what}: mmnpy {ours} vs numpy {theirs}"
    );
}

/// Compare one of our values with numpy's JSON value: integers and bools exactly, floats
/// closely (numpy's own sums are pairwise; ours are compensated), complex part by part.
fn check_value(ours: Option<Value>, theirs: &Json, scale: f64, what: &str) {
    match (ours, theirs) {
        (None, Json::Null) => {}
        (Some(Value::Int(i)), Json::Number(n)) => {
            assert_eq!(i.to_string(), n.to_string(), "{what}")
        }
        (Some(Value::Bool(b)), Json::Bool(t)) => assert_eq!(b, *t, "{what}"),
        (Some(Value::Float(x)), Json::Number(n)) => close(x, n.as_f64().unwrap(), scale, what),
        (Some(Value::F32(x)), Json::Number(n)) => {
            assert_eq!(x as f64, n.as_f64().unwrap(), "{what}")
        }
        (Some(Value::Complex(re, im)), Json::Array(parts)) => {
            close(re, parts[0].as_f64().unwrap(), scale, what);
            close(im, parts[1].as_f64().unwrap(), scale, what);
        }
        (Some(Value::Float(x)), Json::Null) if x.is_nan() => {}
        (ours, theirs) => panic!("{what}: mmnpy {ours:?} vs numpy {theirs}"),
    }
}

fn check_stats(s: &Stats, want: &Json, scale: f64, what: &str) {
    let int = |key: &str| want[key].as_u64();
    assert_eq!(Some(s.count), int("count"), "{what} count");
    assert_eq!(Some(s.nan_count), int("nan_count"), "{what} nan_count");
    assert_eq!(
        s.count_nonzero,
        int("count_nonzero"),
        "{what} count_nonzero"
    );
    check_value(Some(s.sum), &want["sum"], scale, &format!("{what} sum"));
    if want.get("mean").is_none() {
        return; // empty arrays: numpy's answers beyond counts and sum are warnings
    }
    check_value(s.mean, &want["mean"], scale, &format!("{what} mean"));
    if want.get("var").is_none() {
        return; // complex
    }
    let f = |x: Option<f64>| x.map(Value::Float);
    check_value(
        f(s.var),
        &want["var"],
        scale * scale,
        &format!("{what} var"),
    );
    check_value(f(s.std), &want["std"], scale, &format!("{what} std"));
    check_value(s.min, &want["min"], scale, &format!("{what} min"));
    check_value(s.max, &want["max"], scale, &format!("{what} max"));
    assert_eq!(s.argmin, int("argmin"), "{what} argmin");
    assert_eq!(s.argmax, int("argmax"), "{what} argmax");
}

/// The items of a nested numpy result list, in C order.
fn flat(json: &Json) -> Vec<Json> {
    match json {
        Json::Array(items) if items.iter().all(|v| v.is_array()) && !items.is_empty() => {
            items.iter().flat_map(flat).collect()
        }
        Json::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// Item `i` (C order) of every key of numpy's answers along an axis.
fn per_item(want: &Json, i: usize) -> Json {
    let obj = want.as_object().unwrap();
    Json::Object(
        obj.iter()
            .map(|(k, v)| (k.clone(), flat(v)[i].clone()))
            .collect(),
    )
}

fn json_depth(json: &Json) -> usize {
    match json {
        Json::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[test]
fn whole_array_stats_match_numpy_fixtures() {
    for (name, want) in answers() {
        let file = NpyFile::open(fixtures().join(format!("{name}.npy"))).unwrap();
        let scale = stats(&file, 0, &PassOptions::new()).unwrap();
        let scale = scale.max.map_or(1.0, |m| m.as_f64().abs()) * file.len().max(1) as f64;
        for block in [None, Some(3)] {
            let options = match block {
                Some(n) => PassOptions::new().block_units(n),
                None => PassOptions::new(),
            };
            let s = stats(&file, 0, &options).unwrap();
            check_stats(
                &s,
                &want["whole"],
                scale,
                &format!("{name} (blocks {block:?})"),
            );
            if let Some(v1) = want["whole"].get("var_ddof1") {
                let s1 = stats(&file, 1, &options).unwrap();
                check_value(
                    s1.var.map(Value::Float),
                    v1,
                    scale * scale,
                    &format!("{name} var ddof=1"),
                );
            }
        }
    }
}

#[test]
fn stats_along_every_axis_match_numpy_fixtures() {
    let mut checked = 0;
    for (name, want) in answers() {
        if name.starts_with('c') {
            continue; // complex: whole-array only in the fixtures
        }
        let file = NpyFile::open(fixtures().join(format!("{name}.npy"))).unwrap();
        let whole = stats(&file, 0, &PassOptions::new()).unwrap();
        let scale = whole.max.map_or(1.0, |m| m.as_f64().abs()) * file.len().max(1) as f64;
        for (axis, want_axis) in want["axes"].as_array().unwrap().iter().enumerate() {
            for block in [1, 2, 1000] {
                let r = stats_axis(&file, axis, 0, &PassOptions::new().block_units(block)).unwrap();
                let mut shape = file.shape().to_vec();
                shape.remove(axis);
                assert_eq!(r.shape, shape);
                for (i, s) in r.stats.iter().enumerate() {
                    let item = per_item(want_axis, i);
                    check_stats(
                        s,
                        &item,
                        scale,
                        &format!("{name} axis {axis} item {i} block {block}"),
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} results checked");
}

#[test]
fn histograms_match_numpy_fixtures() {
    let mut checked = 0;
    for (name, want) in answers() {
        let file = NpyFile::open(fixtures().join(format!("{name}.npy"))).unwrap();
        for case in want["histograms"].as_array().unwrap() {
            let bins = case["bins"].as_u64().unwrap() as usize;
            let range = case["range"]
                .as_array()
                .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap()));
            let got = histogram(&file, bins, range, &PassOptions::new().block_units(5));
            let what = format!("{name} bins={bins} range={range:?}");
            match case.get("error") {
                Some(msg) => {
                    let e = got.expect_err(&what).to_string();
                    assert!(e.contains(msg.as_str().unwrap()), "{what}: {e}");
                }
                None => {
                    let h = got.unwrap_or_else(|e| panic!("{what}: {e}"));
                    let counts: Vec<u64> = serde_json::from_value(case["counts"].clone()).unwrap();
                    let edges: Vec<f64> = serde_json::from_value(case["edges"].clone()).unwrap();
                    assert_eq!(h.counts, counts, "{what}");
                    assert_eq!(h.edges, edges, "{what}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} histograms checked");
}

fn run_json(args: &[&str]) -> Json {
    let out = mmnpy().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn stats_json_has_exactly_the_contract_keys_and_exact_integers() {
    let path = fixtures().join("i8_wide.npy");
    let doc = run_json(&["stats", path.to_str().unwrap(), "--json"]);
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "count",
            "nan_count",
            "sum",
            "mean",
            "var",
            "std",
            "min",
            "max",
            "argmin",
            "argmax"
        ]
    );
    // 3 * 2^62 + 12 - 2^63: exact, where numpy's int64 sum would wrap on the way.
    let exact = 3i128 * (1 << 62) + 12 - (1i128 << 63);
    assert_eq!(doc["sum"].to_string(), exact.to_string());
    assert_eq!(doc["min"].to_string(), i64::MIN.to_string());
}

#[test]
fn stats_json_of_complex_empty_and_axis_results() {
    let c = run_json(&[
        "stats",
        fixtures().join("c16_1d.npy").to_str().unwrap(),
        "--json",
    ]);
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["count", "nan_count", "sum", "mean"]);
    assert_eq!(c["sum"].as_array().unwrap().len(), 2);

    let e = run_json(&[
        "stats",
        fixtures().join("f8_empty.npy").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(e["count"], 0);
    assert_eq!(e["sum"].as_f64(), Some(0.0));
    for key in ["mean", "var", "std", "min", "max", "argmin", "argmax"] {
        assert!(e[key].is_null(), "{key}");
    }

    let path = fixtures().join("f8_3d_fortran.npy");
    let a = run_json(&["stats", path.to_str().unwrap(), "--axis", "-1", "--json"]);
    let want = &answers()["f8_3d_fortran"]["axes"][2];
    assert_eq!(a["argmin"], want["argmin"]);
    assert_eq!(a["count"], want["count"]);
    assert_eq!(json_depth(&a["mean"]), 2); // shape (3, 4)
}

#[test]
fn bad_axis_is_an_error_naming_it() {
    let path = fixtures().join("f8_2d.npy");
    let out = mmnpy()
        .args(["stats", path.to_str().unwrap(), "--axis", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("axis 2 is out of bounds for array of dimension 2"),
        "{err}"
    );
    assert!(err.contains("f8_2d.npy"), "{err}");
}

#[test]
fn hist_json_matches_numpy_and_nan_without_range_fails() {
    let path = fixtures().join("f4_1d_nonan.npy");
    let doc = run_json(&["hist", path.to_str().unwrap(), "--bins", "7", "--json"]);
    let want = answers()["f4_1d_nonan"]["histograms"][1].clone();
    assert_eq!(doc["counts"], want["counts"]);
    let edges: Vec<f64> = serde_json::from_value(doc["edges"].clone()).unwrap();
    let want_edges: Vec<f64> = serde_json::from_value(want["edges"].clone()).unwrap();
    let as_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
    assert_eq!(as_f32(&edges), as_f32(&want_edges));

    let nan = fixtures().join("f8_2d.npy");
    let out = mmnpy()
        .args(["hist", nan.to_str().unwrap(), "--bins", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not finite"));
    let out = mmnpy()
        .args([
            "hist",
            nan.to_str().unwrap(),
            "--bins",
            "3",
            "--range",
            "1,0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
