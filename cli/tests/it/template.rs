//! The SAM template's dashboard and saved queries read what the functions
//! write: every Hooklane metric a dashboard panel shows is one the code
//! emits (with the dimensions the panel searches by), and every log
//! message a saved query filters on is one the code logs.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The text of every `.rs` file under the functions' and shared crates' `src`.
fn sources() -> String {
    let mut text = String::new();
    let mut dirs = vec![root().join("functions"), root().join("shared")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("tests") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    text
}

/// The values of `"...{key}..."`-shaped occurrences: each text between
/// `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    text.match_indices(start)
        .filter_map(|(i, _)| {
            let rest = &text[i + start.len()..];
            rest.find(end).map(|j| &rest[..j])
        })
        .collect()
}

#[test]
fn the_dashboard_shows_metrics_the_code_emits_and_the_queries_read_messages_it_logs() {
    let template = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    let code = sources();

    // SEARCH('{Hooklane,Dim,…} MetricName=\"Name\"', …) and ["Hooklane", "Name", …].
    let searched: Vec<(&str, &str)> = between(&template, "SEARCH('{Hooklane,", "'")
        .into_iter()
        .map(|s| {
            let (dims, rest) = s.split_once("} MetricName=\\\"").expect("a metric search");
            (rest.trim_end_matches("\\\""), dims)
        })
        .collect();
    let plain = between(&template, "[\"Hooklane\", \"", "\"");
    assert!(
        searched.len() >= 5 && plain.len() >= 3,
        "{searched:?} {plain:?}"
    );
    for (name, dims) in &searched {
        assert!(
            code.contains(&format!("\"{name}\"")),
            "the dashboard searches {name}, which no code emits"
        );
        for dim in dims.split(',') {
            assert!(
                code.contains(&format!("(\"{dim}\"")),
                "{name} is searched by {dim}, a dimension no code sets"
            );
        }
    }
    for name in plain {
        assert!(
            code.contains(&format!("count(\"{name}\"")),
            "the dashboard shows {name}, which no code counts"
        );
    }
    for message in between(&template, "message = \"", "\"") {
        assert!(
            code.contains(&format!("\"{message}\"")),
            "a saved query filters on the log message `{message}`, which no code logs"
        );
    }
}
