//! Timing API requests over real HTTP: one after another, after a warm-up, each timed from
//! sending the request to having read the whole body.

use anyhow::bail;
use serde_json::Value;
use std::time::{Duration, Instant};
use steward_shared::Page;

/// One row of the benchmark: a label and the paths to request, used in turn.
#[derive(Debug, Clone)]
pub struct Case {
    pub label: String,
    pub paths: Vec<String>,
}

impl Case {
    pub fn one(label: impl Into<String>, path: impl Into<String>) -> Case {
        Case {
            label: label.into(),
            paths: vec![path.into()],
        }
    }
}

/// The measured latencies of one case, sorted.
#[derive(Debug, Clone)]
pub struct Timing {
    pub label: String,
    samples: Vec<Duration>,
    /// What the responses held, e.g. `50 items` or `avg 2.0 comments`.
    pub response: String,
}

impl Timing {
    pub fn new(label: String, mut samples: Vec<Duration>, response: String) -> Timing {
        samples.sort_unstable();
        Timing {
            label,
            samples,
            response,
        }
    }

    /// How many samples were measured.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Nearest-rank percentile (`100.0` is the maximum).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.samples.len() as f64).ceil() as usize;
        self.samples[rank.clamp(1, self.samples.len()) - 1]
    }
}

/// Requests `case` `warmup` times unmeasured, then `samples` times measured.
pub async fn run(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    case: &Case,
    warmup: usize,
    samples: usize,
) -> anyhow::Result<Timing> {
    let mut times = Vec::with_capacity(samples);
    let mut counts: Vec<(usize, &'static str)> = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let path = &case.paths[i % case.paths.len()];
        let started = Instant::now();
        let resp = http
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let took = started.elapsed();
        if !status.is_success() {
            bail!(
                "{}: GET {path} answered {status}: {}",
                case.label,
                String::from_utf8_lossy(&body)
            );
        }
        if i >= warmup {
            times.push(took);
            counts.push(describe(&body)?);
        }
    }
    Ok(Timing::new(case.label.clone(), times, summarize(&counts)))
}

/// How many things a response held: a page's items, a ticket's comments, or object keys.
fn describe(body: &[u8]) -> anyhow::Result<(usize, &'static str)> {
    if let Ok(page) = serde_json::from_slice::<Page<Value>>(body) {
        return Ok((page.items.len(), "items"));
    }
    let v: Value = serde_json::from_slice(body)?;
    Ok(match v.get("comments").and_then(Value::as_array) {
        Some(comments) => (comments.len(), "comments"),
        None => (v.as_object().map_or(0, |o| o.len()), "keys"),
    })
}

fn summarize(counts: &[(usize, &'static str)]) -> String {
    let Some(&(first, what)) = counts.first() else {
        return String::new();
    };
    if counts.iter().all(|c| c.0 == first) {
        format!("{first} {what}")
    } else {
        let mean = counts.iter().map(|c| c.0).sum::<usize>() as f64 / counts.len() as f64;
        format!("avg {mean:.1} {what}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let t = Timing::new(
            "x".into(),
            (1..=200).rev().map(Duration::from_millis).collect(),
            String::new(),
        );
        assert_eq!(t.percentile(50.0), Duration::from_millis(100));
        assert_eq!(t.percentile(95.0), Duration::from_millis(190));
        assert_eq!(t.percentile(99.0), Duration::from_millis(198));
        assert_eq!(t.percentile(100.0), Duration::from_millis(200));
    }

    #[test]
    fn describes_responses() {
        let list = br#"{"items": [{"id": 1}, {"id": 2}], "next_cursor": null}"#;
        assert_eq!(describe(list).expect("page"), (2, "items"));
        let ticket = br#"{"id": 1, "comments": [{"id": 3}]}"#;
        assert_eq!(describe(ticket).expect("ticket"), (1, "comments"));
        assert_eq!(
            describe(br#"{"status:open": 3}"#).expect("counts"),
            (1, "keys")
        );
        assert_eq!(
            summarize(&[(2, "comments"), (3, "comments")]),
            "avg 2.5 comments"
        );
        assert_eq!(summarize(&[(50, "items"), (50, "items")]), "50 items");
    }
}
