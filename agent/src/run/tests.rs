//! Tests of the run loop on tokio's paused clock with a scripted reporter.

use super::reporter::Reporter;
use super::scheduler::Scheduler;
use super::*;
use crate::clock::{Clock, TokioClock};
use crate::report::Delivery;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use steward_shared::AgentCommand;
use tokio::sync::watch;

type Script = VecDeque<Result<Delivery, RunError>>;

/// Replays a script of delivery results, recording when each produce and deliver was
/// called; cancels the shutdown token when the script runs out.
struct ScriptedReporter {
    clock: TokioClock,
    calls: Arc<Mutex<Vec<DateTime<Utc>>>>,
    produced: Arc<Mutex<Vec<DateTime<Utc>>>>,
    script: Script,
    shutdown: CancellationToken,
}

impl Reporter for ScriptedReporter {
    fn produce(&mut self) -> impl Future<Output = Result<(), RunError>> + Send {
        // Only collections followed by a scripted delivery count.
        if !self.script.is_empty() {
            self.produced.lock().expect("lock").push(self.clock.now());
        }
        std::future::ready(Ok(()))
    }

    fn deliver(&mut self) -> impl Future<Output = Result<Delivery, RunError>> + Send {
        let next = self.script.pop_front();
        if next.is_some() {
            self.calls.lock().expect("lock").push(self.clock.now());
        }
        let shutdown = self.shutdown.clone();
        async move {
            match next {
                Some(result) => result,
                None => {
                    shutdown.cancel();
                    std::future::pending().await
                }
            }
        }
    }

    fn reconfigure(&mut self, _config: &AgentConfig) -> Result<(), RunError> {
        Ok(())
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 12, 10, 0)
        .single()
        .expect("date")
}

/// Seconds after [`start`] at which the reporter was called, to the millisecond.
fn offsets(calls: &[DateTime<Utc>]) -> Vec<f64> {
    calls
        .iter()
        .map(|t| (*t - start()).num_milliseconds() as f64 / 1000.0)
        .collect()
}

fn ok() -> Result<Delivery, RunError> {
    reply(vec![])
}

fn reply(commands: Vec<AgentCommand>) -> Result<Delivery, RunError> {
    Ok(Delivery {
        delivered: vec![1],
        last_response: Some(CheckinResponse {
            asset_id: 1,
            commands: commands.clone(),
            update: None,
        }),
        commands,
        ..Delivery::default()
    })
}

/// The server lost track of the chain: the queue made the next report full.
fn full_requested() -> Result<Delivery, RunError> {
    let mut delivery = reply(vec![AgentCommand::SendFullReport])?;
    delivery.full_requested = true;
    Ok(delivery)
}

fn unreachable() -> Result<Delivery, RunError> {
    Err(RunError::Client(ClientError::Transport(
        "connection refused".into(),
    )))
}

struct Harness {
    schedule: &'static str,
    jitter_secs: u64,
    random: u64,
    updates: Option<watch::Receiver<AgentConfig>>,
}

impl Harness {
    fn new(schedule: &'static str) -> Self {
        Harness {
            schedule,
            jitter_secs: 0,
            random: 0,
            updates: None,
        }
    }

    /// Run the scheduler over `script`; the offsets of the deliveries and how it ended.
    async fn run(
        self,
        script: Vec<Result<Delivery, RunError>>,
    ) -> (Vec<f64>, Result<(), RunError>) {
        let (calls, _, result) = self.run_counting(script).await;
        (calls, result)
    }

    /// [`Harness::run`], with the offsets of the collections too.
    async fn run_counting(
        self,
        script: Vec<Result<Delivery, RunError>>,
    ) -> (Vec<f64>, Vec<f64>, Result<(), RunError>) {
        let clock = TokioClock::starting_at(start());
        let shutdown = CancellationToken::new();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let produced = Arc::new(Mutex::new(Vec::new()));
        let config = AgentConfig {
            schedule: self.schedule.to_string(),
            jitter_secs: self.jitter_secs,
            ..AgentConfig::default()
        };
        let random = self.random;
        let scheduler = Scheduler {
            reporter: ScriptedReporter {
                clock,
                calls: calls.clone(),
                produced: produced.clone(),
                script: script.into(),
                shutdown: shutdown.clone(),
            },
            clock,
            schedule: Schedule::parse(self.schedule).expect("schedule"),
            config,
            updates: self.updates,
            shutdown,
            random: Box::new(move || random),
        };
        let result = scheduler.run().await;
        let calls = calls.lock().expect("lock").clone();
        let produced = produced.lock().expect("lock").clone();
        (offsets(&calls), offsets(&produced), result)
    }
}

#[tokio::test(start_paused = true)]
async fn checks_in_at_start_then_on_schedule() {
    let (calls, result) = Harness::new("*/30 * * * *")
        .run(vec![ok(), ok(), ok()])
        .await;
    assert!(result.is_ok());
    // 12:10 (start), 12:30, 13:00.
    assert_eq!(calls, vec![0.0, 1200.0, 3000.0]);
}

#[tokio::test(start_paused = true)]
async fn jitter_delays_each_run() {
    let harness = Harness {
        jitter_secs: 60,
        random: 30,
        ..Harness::new("*/30 * * * *")
    };
    let (calls, _) = harness.run(vec![ok(), ok(), ok()]).await;
    assert_eq!(calls, vec![0.0, 1230.0, 3030.0]);
}

#[tokio::test(start_paused = true)]
async fn retries_delivery_with_backoff_without_collecting_again() {
    let (calls, produced, result) = Harness::new("*/30 * * * *")
        .run_counting(vec![unreachable(), unreachable(), ok(), ok()])
        .await;
    assert!(result.is_ok());
    // Backoff 2.5 s then 5 s (lowest jitter), then the 12:30 run.
    assert_eq!(calls, vec![0.0, 2.5, 7.5, 1200.0]);
    // One collection per scheduled run; retries only deliver.
    assert_eq!(produced, vec![0.0, 1200.0]);
}

#[tokio::test(start_paused = true)]
async fn gives_up_retrying_at_the_next_scheduled_time() {
    let mut script: Vec<_> = (0..5).map(|_| unreachable()).collect();
    script.push(ok());
    script.push(ok());
    let (calls, produced, _) = Harness::new("* * * * *").run_counting(script).await;
    // 2.5, 5, 10, 20 s waits; the next (40 s) would pass 12:11, so the 12:11 run takes over
    // with a new collection (the undelivered report stays queued and goes first).
    assert_eq!(calls, vec![0.0, 2.5, 7.5, 17.5, 37.5, 60.0, 120.0]);
    assert_eq!(produced, vec![0.0, 60.0, 120.0]);
}

#[tokio::test(start_paused = true)]
async fn refused_report_waits_for_the_next_run() {
    let bad_request = Err(RunError::Client(ClientError::Http {
        status: 400,
        code: "bad_request".into(),
        message: "no".into(),
    }));
    let (calls, result) = Harness::new("*/30 * * * *")
        .run(vec![bad_request, ok()])
        .await;
    assert!(result.is_ok());
    assert_eq!(calls, vec![0.0, 1200.0]);
}

#[tokio::test(start_paused = true)]
async fn revoked_agent_stops() {
    let (calls, result) = Harness::new("*/30 * * * *")
        .run(vec![Err(RunError::Revoked), ok()])
        .await;
    assert!(matches!(result, Err(RunError::Revoked)), "{result:?}");
    assert_eq!(calls, vec![0.0]);
}

#[tokio::test(start_paused = true)]
async fn collect_now_once_per_reply() {
    let script = vec![
        reply(vec![AgentCommand::CollectNow, AgentCommand::CollectNow]),
        reply(vec![AgentCommand::CollectNow]),
        ok(),
    ];
    let (calls, produced, _) = Harness::new("*/30 * * * *").run_counting(script).await;
    assert_eq!(calls, vec![0.0, 0.0, 1200.0]);
    assert_eq!(produced, vec![0.0, 0.0, 1200.0]);
}

#[tokio::test(start_paused = true)]
async fn full_report_requested_is_sent_right_away_once_per_run() {
    // Asked twice in a row: the second request waits for the next scheduled run (where
    // the queue makes the report full anyway).
    let script = vec![full_requested(), full_requested(), ok()];
    let (calls, produced, _) = Harness::new("*/30 * * * *").run_counting(script).await;
    assert_eq!(calls, vec![0.0, 0.0, 1200.0]);
    assert_eq!(produced, vec![0.0, 0.0, 1200.0]);

    // A full report and a collection asked for in one reply: one extra round does both.
    let mut both = full_requested();
    if let Ok(d) = &mut both {
        d.commands.push(AgentCommand::CollectNow);
    }
    let (calls, produced, _) = Harness::new("*/30 * * * *")
        .run_counting(vec![both, reply(vec![AgentCommand::CollectNow]), ok()])
        .await;
    assert_eq!(calls, vec![0.0, 0.0, 1200.0]);
    assert_eq!(produced, vec![0.0, 0.0, 1200.0]);

    // SendFullReport alone is not a collect-now: no round beyond the full one.
    let (calls, _, _) = Harness::new("*/30 * * * *")
        .run_counting(vec![reply(vec![AgentCommand::SendFullReport]), ok()])
        .await;
    assert_eq!(calls, vec![0.0, 1200.0]);
}

#[tokio::test(start_paused = true)]
async fn set_schedule_applies_and_bad_ones_are_ignored() {
    let set = |cron: &str| reply(vec![AgentCommand::SetSchedule { cron: cron.into() }]);
    let (calls, _) = Harness::new("*/30 * * * *")
        .run(vec![set("0 * * * *"), ok()])
        .await;
    assert_eq!(calls, vec![0.0, 3000.0]);
    let (calls, _) = Harness::new("*/30 * * * *")
        .run(vec![set("bogus"), ok()])
        .await;
    assert_eq!(calls, vec![0.0, 1200.0]);
    let (calls, _) = Harness::new("*/30 * * * *")
        .run(vec![reply(vec![AgentCommand::Unknown]), ok()])
        .await;
    assert_eq!(calls, vec![0.0, 1200.0]);
}

#[tokio::test(start_paused = true)]
async fn reloaded_config_changes_the_schedule() {
    let (tx, rx) = watch::channel(AgentConfig::default());
    tx.send_replace(AgentConfig {
        schedule: "0 14 * * *".into(),
        ..AgentConfig::default()
    });
    let harness = Harness {
        updates: Some(rx),
        ..Harness::new("*/30 * * * *")
    };
    let (calls, _) = harness.run(vec![ok(), ok()]).await;
    assert_eq!(calls, vec![0.0, 6600.0]);
    drop(tx);
}

#[tokio::test(start_paused = true)]
async fn shutdown_while_waiting() {
    let clock = TokioClock::starting_at(start());
    let shutdown = CancellationToken::new();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let scheduler = Scheduler {
        reporter: ScriptedReporter {
            clock,
            calls: calls.clone(),
            produced: Arc::new(Mutex::new(Vec::new())),
            script: vec![ok(), ok()].into(),
            shutdown: CancellationToken::new(), // never cancelled by the script
        },
        clock,
        schedule: Schedule::parse("*/30 * * * *").expect("schedule"),
        config: AgentConfig::default(),
        updates: None,
        shutdown: shutdown.clone(),
        random: Box::new(|| 0),
    };
    let stopper = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await; // virtual time
        stopper.cancel();
    });
    assert!(scheduler.run().await.is_ok());
    assert_eq!(offsets(&calls.lock().expect("lock")), vec![0.0]);
}

#[tokio::test]
async fn not_enrolled_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = run(
        AgentConfig::default(),
        dir.path().to_path_buf(),
        CancellationToken::new(),
    )
    .await
    .expect_err("not enrolled");
    assert!(e.to_string().contains("steward-agent enroll"), "{e}");
    let e = run_once(&AgentConfig::default(), dir.path())
        .await
        .expect_err("not enrolled");
    assert!(matches!(e, RunError::NotEnrolled { .. }));
}

/// The server's `quickstart` spawns the agent on its runtime: the futures must be `Send`.
#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = std::path::Path::new("/nonexistent");
    let config = AgentConfig::default();
    assert_send(&run(config.clone(), dir.into(), CancellationToken::new()));
    assert_send(&run_with_reload(
        None,
        config.clone(),
        dir.into(),
        CancellationToken::new(),
    ));
    assert_send(&run_once(&config, dir));
    assert_send(&enroll(&config, "https://x", "t", dir));
}
