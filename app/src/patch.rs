//! What changed between two snapshots, as JSON Patch (RFC 6902, the `add`, `remove` and `replace`
//! operations), so a live stream sends a screen a few hundred bytes instead of the whole snapshot.
//! Objects are compared key by key; a changed array goes as the shortest of item by item (equal lengths),
//! a shift (new items at the front, the oldest gone from the end: the ticker) or whole; anything else that
//! differs is replaced whole. The server computes the patch once per region (`diff`); the page applies it
//! (`apply`) to the snapshot it holds, and starts over from a full snapshot if that ever fails.
use serde_json::{Map, Value};

/// The operations that turn `from` into `to`, as a JSON array.
pub fn diff(from: &Value, to: &Value) -> Value {
    let mut ops = Vec::new();
    walk(from, to, &mut String::new(), &mut ops);
    Value::Array(ops)
}

fn walk(from: &Value, to: &Value, path: &mut String, ops: &mut Vec<Value>) {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let len = path.len();
                push_token(path, k);
                match b.get(k) {
                    Some(vb) => walk(va, vb, path, ops),
                    None => ops.push(op("remove", path, None)),
                }
                path.truncate(len);
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                let len = path.len();
                push_token(path, k);
                ops.push(op("add", path, Some(vb)));
                path.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) if a != b => {
            // The shortest of: item by item (figures per area), a shift (a ticker's newest first), whole.
            let mut best = vec![op("replace", path, Some(to))];
            let mut cost = size(&best);
            let mut consider = |cand: Vec<Value>| {
                let c = size(&cand);
                if c < cost {
                    best = cand;
                    cost = c;
                }
            };
            if a.len() == b.len() {
                let mut cand = Vec::new();
                for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                    let len = path.len();
                    push_token(path, &i.to_string());
                    walk(va, vb, path, &mut cand);
                    path.truncate(len);
                }
                consider(cand);
            }
            if let Some(k) = (1..=b.len().min(MAX_SHIFT)).find(|&k| b.len() - k <= a.len() && b[k..] == a[..b.len() - k]) {
                // Drop what fell off the end (last first, so indices hold), then add the new at the front.
                let mut cand = Vec::new();
                for i in (b.len() - k..a.len()).rev() {
                    cand.push(op("remove", &format!("{path}/{i}"), None));
                }
                for (i, v) in b[..k].iter().enumerate() {
                    cand.push(op("add", &format!("{path}/{i}"), Some(v)));
                }
                consider(cand);
            }
            ops.extend(best);
        }
        _ if from == to => {}
        _ => ops.push(op("replace", path, Some(to))),
    }
}

/// How far a list may have moved down and still be sent as a shift.
const MAX_SHIFT: usize = 64;

fn size(ops: &[Value]) -> usize {
    ops.iter().map(|o| o.to_string().len() + 1).sum()
}

fn op(name: &str, path: &str, value: Option<&Value>) -> Value {
    let mut m = Map::new();
    m.insert("op".into(), name.into());
    m.insert("path".into(), path.into());
    if let Some(v) = value {
        m.insert("value".into(), v.clone());
    }
    Value::Object(m)
}

/// RFC 6901: `~` is written `~0` and `/` is written `~1` inside a token.
fn push_token(path: &mut String, token: &str) {
    path.push('/');
    path.push_str(&token.replace('~', "~0").replace('/', "~1"));
}

/// Applies `ops` (as `diff` makes them) to `doc`. On an error `doc` may be half changed: the caller
/// throws it away and waits for a full snapshot.
pub fn apply(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("a patch is an array")?;
    for o in ops {
        let name = o.get("op").and_then(Value::as_str).ok_or("an operation without op")?;
        let path = o.get("path").and_then(Value::as_str).ok_or("an operation without path")?;
        if path.is_empty() {
            match (name, o.get("value")) {
                ("replace" | "add", Some(v)) => *doc = v.clone(),
                _ => return Err(format!("{name} of the whole document")),
            }
            continue;
        }
        let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("bad path {path}"))?;
        let last = last.replace("~1", "/").replace("~0", "~");
        let target = doc.pointer_mut(parent).ok_or_else(|| format!("no {parent}"))?;
        match (name, target) {
            ("add" | "replace", Value::Object(m)) => {
                let v = o.get("value").ok_or("no value")?;
                if name == "replace" && !m.contains_key(&last) {
                    return Err(format!("replace of missing {path}"));
                }
                m.insert(last, v.clone());
            }
            ("remove", Value::Object(m)) => {
                m.remove(&last).ok_or_else(|| format!("remove of missing {path}"))?;
            }
            ("replace", Value::Array(a)) => {
                let v = o.get("value").ok_or("no value")?;
                let slot = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)).ok_or_else(|| format!("no {path}"))?;
                *slot = v.clone();
            }
            ("add", Value::Array(a)) => {
                let v = o.get("value").ok_or("no value")?;
                let i = if last == "-" { a.len() } else { last.parse::<usize>().map_err(|_| format!("bad index in {path}"))? };
                if i > a.len() {
                    return Err(format!("add past the end at {path}"));
                }
                a.insert(i, v.clone());
            }
            ("remove", Value::Array(a)) => {
                let i = last.parse::<usize>().ok().filter(|&i| i < a.len()).ok_or_else(|| format!("no {path}"))?;
                a.remove(i);
            }
            _ => return Err(format!("{name} at {path} is not supported")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(a: Value, b: Value) -> Value {
        let ops = diff(&a, &b);
        let mut doc = a.clone();
        apply(&mut doc, &ops).unwrap();
        assert_eq!(doc, b, "patch {ops}");
        ops
    }

    #[test]
    fn a_patch_turns_one_snapshot_into_the_next() {
        let a = json!({"as_of": 1, "kpis": {"open": 5, "overdue": 1}, "areas": [{"code": "1", "n": 2}, {"code": "2", "n": 3}], "ticker": [1, 2], "gone": true});
        let b = json!({"as_of": 2, "kpis": {"open": 6, "overdue": 1}, "areas": [{"code": "1", "n": 2}, {"code": "2", "n": 4}], "ticker": [3, 1, 2], "new": {"x": null}});
        let ops = round_trip(a, b);
        let paths: Vec<&str> = ops.as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap()).collect();
        assert!(paths.contains(&"/areas/1/n") && paths.contains(&"/kpis/open"), "equal-length arrays are patched item by item: {paths:?}");
        assert!(paths.contains(&"/ticker/0") && !paths.contains(&"/ticker"), "a list that moved down by one gets one add: {paths:?}");
        assert!(!paths.iter().any(|p| p.starts_with("/areas/0")), "what did not change is not sent: {paths:?}");
    }

    #[test]
    fn a_ticker_that_moves_down_sends_only_the_new_rows() {
        let rows = |from: u64, n: u64| Value::Array((from..from + n).rev().map(|i| json!({"id": i, "place": "塔山街道", "title": "占道经营"})).collect());
        let ops = round_trip(json!({"ticker": rows(0, 30)}), json!({"ticker": rows(3, 30)}));
        let ops = ops.as_array().unwrap();
        assert_eq!(ops.iter().filter(|o| o["op"] == "add").count(), 3, "{ops:?}");
        assert_eq!(ops.iter().filter(|o| o["op"] == "remove").count(), 3, "{ops:?}");
        round_trip(json!([1, 2, 3]), json!([0, 1, 2, 3]));
        round_trip(json!([1, 2, 3]), json!([9, 8, 1]));
        round_trip(json!([]), json!([1]));
    }

    #[test]
    fn keys_with_slashes_and_tildes_and_whole_replacements() {
        round_trip(json!({"a/b": 1, "c~d": {"e": 1}}), json!({"a/b": 2, "c~d": {"e": 2}}));
        round_trip(json!({"a": 1}), json!([1, 2]));
        round_trip(json!([1, {"x": 1}]), json!([1, {"x": 2, "y": 3}]));
        assert_eq!(diff(&json!({"a": [1, 2]}), &json!({"a": [1, 2]})), json!([]), "no change, no operations");
    }

    #[test]
    fn a_patch_that_does_not_fit_is_refused() {
        let mut doc = json!({"a": 1});
        assert!(apply(&mut doc, &json!([{"op": "replace", "path": "/b/c", "value": 1}])).is_err());
        assert!(apply(&mut doc, &json!([{"op": "remove", "path": "/z"}])).is_err());
        assert!(apply(&mut doc, &json!([{"op": "move", "from": "/a", "path": "/b"}])).is_err());
        assert!(apply(&mut doc, &json!({"op": "add"})).is_err());
        assert!(apply(&mut json!([1]), &json!([{"op": "replace", "path": "/5", "value": 1}])).is_err());
        assert!(apply(&mut json!([1]), &json!([{"op": "add", "path": "/5", "value": 1}])).is_err());
        assert!(apply(&mut json!([1]), &json!([{"op": "remove", "path": "/1"}])).is_err());
    }

    #[test]
    fn random_documents_round_trip() {
        // A small deterministic generator: nested objects and arrays whose shapes and values drift.
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        fn gen(next: &mut dyn FnMut() -> u64, depth: u32) -> Value {
            match next() % if depth > 3 { 3 } else { 5 } {
                0 => Value::from(next() % 4),
                1 => Value::from(["a", "b/c", "d~e"][(next() % 3) as usize]),
                2 => Value::Null,
                3 => Value::Array((0..next() % 3).map(|_| gen(next, depth + 1)).collect()),
                _ => Value::Object((0..next() % 4).map(|_| (["k", "l/m", "n~"][(next() % 3) as usize].to_string(), gen(next, depth + 1))).collect()),
            }
        }
        for _ in 0..2_000 {
            let a = gen(&mut next, 0);
            let b = gen(&mut next, 0);
            round_trip(a, b);
        }
    }
}
