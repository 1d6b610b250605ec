//! Metrics as CloudWatch Embedded Metric Format (EMF) log lines: in Lambda,
//! one JSON line on stdout per data point, which CloudWatch turns into
//! metrics in the `Hooklane` namespace. Outside Lambda each data point is a
//! `debug` log line instead (target `hooklane::metrics`).

use std::io::Write;

use serde_json::{json, Map, Value};

/// The CloudWatch namespace every metric is written to.
pub const NAMESPACE: &str = "Hooklane";

/// A count or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A number of things (calls, deliveries).
    Count,
    /// A duration in milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// The EMF document of one data point: `name` = `value` in `unit`, the
/// `dimensions` as `(name, value)` pairs, `now_ms` in Unix milliseconds.
pub fn document(
    name: &str,
    value: f64,
    unit: Unit,
    dimensions: &[(&str, &str)],
    now_ms: i64,
) -> Value {
    let mut doc = Map::new();
    let dims: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dims],
                "Metrics": [{"Name": name, "Unit": unit.as_str()}],
            }],
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    doc.insert(name.to_owned(), json!(value));
    Value::Object(doc)
}

/// Writes one data point as a line on stdout in Lambda; elsewhere as a
/// `debug` log line (target `hooklane::metrics`, fields `metric`, `value`,
/// `dimensions`). See [`document`] for the arguments.
pub fn emit(name: &str, value: f64, unit: Unit, dimensions: &[(&str, &str)]) {
    if !crate::telemetry::in_lambda() {
        tracing::debug!(target: "hooklane::metrics", metric = name, value, unit = unit.as_str(), ?dimensions, "metric");
        return;
    }
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let line = document(name, value, unit, dimensions, now_ms).to_string();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Counts one of `name` with the given `(name, value)` dimensions (see
/// [`emit`]).
pub fn count(name: &str, dimensions: &[(&str, &str)]) {
    emit(name, 1.0, Unit::Count, dimensions);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_point_is_an_emf_document() {
        let doc = document(
            "Rejected",
            1.0,
            Unit::Count,
            &[("Code", "unauthorized")],
            1_700_000_000_000,
        );
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Hooklane");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Code"]])
        );
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0],
            json!({"Name": "Rejected", "Unit": "Count"})
        );
        assert_eq!(doc["Code"], "unauthorized");
        assert_eq!(doc["Rejected"], 1.0);
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }
}
