//! Workers Analytics Engine metrics (optional): when the Worker has an Analytics Engine
//! dataset bound as [`METRICS_BINDING`], each isolate's per-minute counts (the same batch the
//! dashboard's history gets) are also written there as one data point per minute, for Grafana
//! and alerting through the SQL API. The queries: `docs/logging.md`, "Metrics".

use serde::Serialize;

use super::{end_reason::EndReason, stats::Counts};

/// The binding name of the dataset (`[[analytics_engine_datasets]]` in `wrangler.toml`).
pub const METRICS_BINDING: &str = "METRICS";

/// The data point's layout version (`blob2`): a query can tell layouts apart.
pub const LAYOUT: &str = "cfsession-v1";

/// What each `doubleN` holds, in order (`double1` is the first); the ends by reason follow,
/// in [`EndReason::ALL`] order (`double8` is `timeout`).
pub const DOUBLES: [&str; 7] = ["minute", "starts", "ends", "kills", "refused", "hook_failures", "hooks_given_up"];

/// One data point, as `writeDataPoint` takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataPoint {
    /// `index1`: the application (`APP_NAME`), the sampling key.
    pub indexes: [String; 1],
    /// `blob1` the application, `blob2` [`LAYOUT`].
    pub blobs: [String; 2],
    /// [`DOUBLES`], then the ends by reason in [`EndReason::ALL`] order.
    pub doubles: Vec<f64>,
}

/// The data point of one minute's `counts` for application `app`.
pub fn data_point(app: &str, minute: u64, counts: &Counts) -> DataPoint {
    let c = counts;
    let totals = [minute, c.starts, c.ended(), c.kills, c.refused, c.hook_failures, c.hooks_given_up];
    let by_reason = EndReason::ALL.iter().map(|r| c.ends.get(r.as_str()).copied().unwrap_or(0));
    let doubles = totals.into_iter().chain(by_reason).map(|n| n as f64).collect();
    DataPoint { indexes: [app.to_owned()], blobs: [app.to_owned(), LAYOUT.to_owned()], doubles }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_is_one_data_point_with_a_fixed_layout() {
        let mut c = Counts { starts: 5, kills: 1, refused: 2, hook_failures: 3, ..Counts::default() };
        c.ends.insert("timeout".into(), 4);
        c.ends.insert("killed".into(), 1);
        let p = data_point("shop", 29_000_000, &c);
        assert_eq!(p.indexes, ["shop".to_owned()]);
        assert_eq!(p.blobs, ["shop".to_owned(), LAYOUT.to_owned()]);
        assert_eq!(&p.doubles[..DOUBLES.len()], [29_000_000.0, 5.0, 5.0, 1.0, 2.0, 3.0, 0.0]);
        let timeout = EndReason::ALL.iter().position(|r| *r == EndReason::Timeout).unwrap();
        assert_eq!(p.doubles[DOUBLES.len() + timeout], 4.0);
        assert_eq!(p.doubles.len(), DOUBLES.len() + EndReason::ALL.len());
        assert!(p.doubles.len() <= 20, "Analytics Engine takes 20 doubles");
    }
}
