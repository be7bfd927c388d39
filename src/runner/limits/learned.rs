//! Limits learned during the run, from the provider's own answers.
//!
//! - **Announced limits** (`headers.rs`): each dimension a provider announces (requests,
//!   tokens, input and output tokens per minute) becomes a [`Bucket`] that mirrors the
//!   server's: it refills at the announced rate up to its capacity (`remaining` + `reset` ×
//!   rate, at most the limit; the smallest any answer implied), each request reserves its units and waits until the bucket
//!   covers them. Every answer brings the server's own `remaining`, and the mirror is pulled
//!   back inside what the server can have then: at least `remaining` less everything else
//!   reserved or answered since this request left (the server may have counted any of it
//!   after this one, answers arrive out of order), at most `remaining + 1` plus what refilled
//!   while the request was out, less what is reserved and not sent yet (`remaining` is a
//!   whole number, the server's level is not). Both bounds hold whatever order the server
//!   saw the requests in, so the mirror never runs ahead of the server.
//! - **A 429** pauses every request of the provider for its `retry-after`.
//! - **No headers at all**: additive increase, multiplicative decrease of the requests in
//!   flight (the window), as TCP does and as inspect_ai's adaptive connections do: a 429
//!   halves the window (once per window's worth of requests), each answered request adds
//!   `1 / window`, up to the run's concurrency.
//!
//! One [`Learned`] is shared by every provider entry of the run that calls the same model at
//! the same endpoint with the same key setting, as the vendor counts them together.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::headers::{Announcement, Dim};

/// Units of one request in each dimension: `[requests, tokens, input tokens, output tokens]`.
pub type Units = [f64; 4];

/// A mirror of the server's token bucket for one dimension.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    /// Units per second.
    rate: f64,
    /// Most units the bucket holds.
    capacity: f64,
    /// Units available at `at` (negative: reserved ahead).
    level: f64,
    at: Instant,
    /// The limit per minute, as announced.
    pub(super) per_minute: f64,
}

impl Bucket {
    fn level_at(&self, now: Instant) -> f64 {
        let refilled =
            self.level + self.rate * now.saturating_duration_since(self.at).as_secs_f64();
        refilled.min(self.capacity)
    }

    /// Takes `units` at `now`; returns how long until the bucket covered them.
    fn reserve(&mut self, units: f64, now: Instant) -> Duration {
        let level = self.level_at(now) - units;
        self.level = level;
        self.at = now;
        if level >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((-level / self.rate).min(86_400.0))
        }
    }
}

/// A request between its admission and its answer.
#[derive(Debug, Clone, Copy)]
struct Pending {
    ticket: u64,
    units: Units,
    /// When it was sent, and the units answered by then.
    sent: Option<(Instant, Units)>,
}

/// What the run learned, and what it did about it (for the end-of-run note).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LearnedReport {
    /// Limits per minute the provider announced, by dimension (see [`Dim`]).
    pub announced: [Option<f64>; 4],
    /// Answers that were 429 (rate limited) and waited their turn.
    pub rate_limited: u64,
    /// The smallest window (requests in flight) AIMD came down to, when the provider sent 429s
    /// without announcing its limits.
    pub min_window: Option<usize>,
    /// Requests held back by a learned limit or a `retry-after` pause.
    pub held: u64,
    /// The longest such hold.
    pub longest_hold: Duration,
}

impl LearnedReport {
    /// One line for the end of a run, or `None` when the limits changed nothing (no wait,
    /// no 429).
    pub fn describe(&self, label: &str) -> Option<String> {
        if self.rate_limited == 0 && self.held == 0 {
            return None;
        }
        let announced: Vec<String> = Dim::ALL
            .iter()
            .filter_map(|d| self.announced[d.index()].map(|n| format!("{n:.0} {}", d.per_minute())))
            .collect();
        let mut line = if announced.is_empty() {
            format!("rate limits: `{label}` announced no limits")
        } else {
            format!(
                "rate limits: `{label}` announced {} in its headers; its requests were paced to {}",
                announced.join(", "),
                if announced.len() == 1 { "it" } else { "them" }
            )
        };
        if self.held > 0 {
            line.push_str(&format!(
                " ({} request{} held back, {:.1} s at most)",
                self.held,
                if self.held == 1 { "" } else { "s" },
                self.longest_hold.as_secs_f64()
            ));
        }
        if self.rate_limited > 0 {
            line.push_str(&format!(
                "; {} answer{} 429 (rate limited) and waited {} turn (not counted as retries)",
                self.rate_limited,
                if self.rate_limited == 1 {
                    " was"
                } else {
                    "s were"
                },
                if self.rate_limited == 1 {
                    "its"
                } else {
                    "their"
                }
            ));
        }
        if let Some(w) = self.min_window {
            line.push_str(&format!(
                "; requests in flight came down to {w} on its 429s (AIMD)"
            ));
        }
        Some(line)
    }
}

#[derive(Debug, Default)]
struct State {
    buckets: [Option<Bucket>; 4],
    pause_until: Option<Instant>,
    next_ticket: u64,
    pending: Vec<Pending>,
    /// Units of every request sent and done with (answered or not), ever.
    answered: Units,
    /// AIMD window; `None` until a 429 arrives from a provider that announces nothing.
    window: Option<f64>,
    in_flight: usize,
    /// Tickets below this one were admitted before the last decrease: their 429s do not
    /// decrease the window again.
    decreased_before: u64,
    /// The run's concurrency: the window never grows past it.
    cap: Option<f64>,
    report: LearnedReport,
}

/// Limits learned from one provider's answers, shared by the entries that call it.
#[derive(Debug, Default)]
pub struct Learned {
    state: Mutex<State>,
    freed: Notify,
}

/// A request's place with a learned limit: its units are pending until it is dropped.
#[derive(Debug)]
pub struct Ticket<'a> {
    learned: &'a Learned,
    id: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut s = self.learned.lock();
        if let Some(i) = s.pending.iter().position(|p| p.ticket == self.id) {
            let p = s.pending.swap_remove(i);
            if p.sent.is_some() {
                for (a, u) in s.answered.iter_mut().zip(p.units) {
                    *a += u;
                }
            }
        }
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.learned.freed.notify_waiters();
    }
}

/// How a request's answer went, for the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered (any status but 429).
    Answered,
    /// 429: rate limited.
    RateLimited,
}

impl Learned {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for room in the window (when AIMD is on), then takes a ticket.
    pub async fn admit(&self, units: Units) -> Ticket<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                let room = s
                    .window
                    .is_none_or(|w| (s.in_flight as f64) < w.floor().max(1.0));
                if room {
                    s.in_flight += 1;
                    let id = s.next_ticket;
                    s.next_ticket += 1;
                    s.pending.push(Pending {
                        ticket: id,
                        units,
                        sent: None,
                    });
                    return Ticket { learned: self, id };
                }
            }
            freed.await;
        }
    }

    /// Reserves the ticket's units in every learned bucket at `now`; returns the wait (the
    /// longest of the buckets' and any pause) and the dimension that set it (`None`: a pause).
    pub fn reserve(&self, ticket: &Ticket<'_>, now: Instant) -> (Duration, Option<Dim>) {
        let mut s = self.lock();
        let units = s
            .pending
            .iter()
            .find(|p| p.ticket == ticket.id)
            .map_or([0.0; 4], |p| p.units);
        let mut wait = Duration::ZERO;
        let mut why = None;
        for d in Dim::ALL {
            if let Some(b) = s.buckets[d.index()].as_mut()
                && units[d.index()] > 0.0
            {
                let w = b.reserve(units[d.index()], now);
                if w > wait {
                    wait = w;
                    why = Some(d);
                }
            }
        }
        if let Some(p) = s.pause_until
            && p.saturating_duration_since(now) > wait
        {
            wait = p - now;
            why = None;
        }
        (wait, why)
    }

    /// Time left of a `retry-after` pause at `now`.
    pub fn paused_for(&self, now: Instant) -> Duration {
        self.lock()
            .pause_until
            .map_or(Duration::ZERO, |p| p.saturating_duration_since(now))
    }

    /// The request leaves now.
    pub fn sent(&self, ticket: &Ticket<'_>, now: Instant) {
        let mut s = self.lock();
        let answered = s.answered;
        if let Some(p) = s.pending.iter_mut().find(|p| p.ticket == ticket.id) {
            p.sent = Some((now, answered));
        }
    }

    /// Notes a request held back for `d`, for the report.
    pub fn held(&self, d: Duration) {
        if d.is_zero() {
            return;
        }
        let mut s = self.lock();
        s.report.held += 1;
        s.report.longest_hold = s.report.longest_hold.max(d);
    }

    /// Learns from an answer to `ticket` received at `now`: the limits it announced, and a
    /// 429's `retry-after` (a pause for every request of the provider).
    pub fn observe(
        &self,
        ticket: &Ticket<'_>,
        announced: &Announcement,
        outcome: Outcome,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        let mut s = self.lock();
        let Some(me) = s.pending.iter().find(|p| p.ticket == ticket.id).copied() else {
            return;
        };
        for d in Dim::ALL {
            if let Some(a) = announced[d.index()] {
                sync(&mut s, d, a, &me, now);
            }
        }
        // Announced as exhausted without a limit to pace by (Azure's remaining-only
        // headers): wait for its reset.
        for a in announced.iter().flatten() {
            if a.limit.is_none()
                && a.remaining.is_some_and(|r| r < 1.0)
                && let Some(reset) = a.reset
            {
                pause(&mut s, now + reset.min(Duration::from_secs(600)));
            }
        }
        let announces = s.buckets.iter().any(Option::is_some);
        match outcome {
            Outcome::RateLimited => {
                s.report.rate_limited += 1;
                if let Some(d) = retry_after {
                    pause(&mut s, now + d);
                }
                if !announces && ticket.id >= s.decreased_before {
                    // Multiplicative decrease, once per window's worth of requests.
                    let current = s.window.unwrap_or(s.in_flight as f64);
                    let w = (current / 2.0).floor().max(1.0);
                    s.window = Some(w);
                    s.decreased_before = s.next_ticket;
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let w_us = w as usize;
                    s.report.min_window = Some(s.report.min_window.map_or(w_us, |m| m.min(w_us)));
                    tracing::debug!(window = w, "rate limit: fewer requests in flight");
                }
            }
            Outcome::Answered => {
                if let Some(w) = s.window {
                    // Additive increase: one more request in flight per window answered.
                    let grown = w + 1.0 / w.floor().max(1.0);
                    s.window = Some(grown.min(s.cap.unwrap_or(f64::MAX)));
                }
            }
        }
        drop(s);
        self.freed.notify_waiters();
    }

    /// Pauses every request of the provider for `d` from `now` (a `retry-after` the error
    /// carried elsewhere than in a header: Gemini's `RetryInfo`, Azure's message).
    pub fn pause(&self, now: Instant, d: Duration) {
        pause(&mut self.lock(), now + d);
    }

    /// Caps the window (the run's concurrency): AIMD never goes above it.
    pub fn cap_window(&self, max: usize) {
        let mut s = self.lock();
        #[allow(clippy::cast_precision_loss)]
        let max = max.max(1) as f64;
        s.cap = Some(s.cap.map_or(max, |c| c.max(max)));
    }

    /// What was learned and done.
    pub fn report(&self) -> LearnedReport {
        let s = self.lock();
        let mut r = s.report.clone();
        for d in Dim::ALL {
            r.announced[d.index()] = s.buckets[d.index()].map(|b| b.per_minute);
        }
        r
    }
}

fn pause(s: &mut State, until: Instant) {
    s.pause_until = Some(s.pause_until.map_or(until, |p| p.max(until)));
}

/// Applies one announced dimension of the answer to `me`, received at `now`.
fn sync(s: &mut State, d: Dim, a: super::headers::Announced, me: &Pending, now: Instant) {
    let i = d.index();
    // The bucket: rate from the limit, capacity from what is left and when it is whole again.
    if let Some(limit) = a.limit.filter(|l| *l >= 1.0) {
        let rate = limit / 60.0;
        let remaining = a.remaining.unwrap_or(limit);
        let capacity = a
            .reset
            .map_or(limit, |r| remaining + r.as_secs_f64() * rate)
            .clamp(remaining.max(1.0), limit);
        let b = s.buckets[i].get_or_insert(Bucket {
            rate,
            capacity,
            level: f64::NAN,
            at: now,
            per_minute: limit,
        });
        if b.per_minute != limit {
            // A new limit (a tier change): start over from this answer.
            b.capacity = capacity;
        }
        // Each answer bounds the capacity from above (a reset rounded up to whole seconds,
        // as Anthropic sends it, overstates it): keep the tightest, never below what is left.
        b.capacity = b.capacity.min(capacity).max(remaining.max(1.0));
        b.rate = rate;
        b.per_minute = limit;
    }
    let Some(remaining) = a.remaining else { return };
    let (sent_at, answered_then) = me.sent.unwrap_or((now, s.answered));
    let others = s.pending.iter().filter(|p| p.ticket != me.ticket);
    // What the server may have counted after this request: everything else in flight or
    // waiting, and whatever was answered since it left.
    let maybe_after: f64 =
        others.clone().map(|p| p.units[i]).sum::<f64>() + (s.answered[i] - answered_then[i]);
    // What it cannot have counted: reserved and not sent yet.
    let surely_after: f64 = others
        .filter(|p| p.sent.is_none())
        .map(|p| p.units[i])
        .sum();
    let Some(b) = s.buckets[i].as_mut() else {
        return;
    };
    let low = remaining - maybe_after;
    let high = remaining + 1.0 + b.rate * now.saturating_duration_since(sent_at).as_secs_f64()
        - surely_after;
    b.level = if b.level.is_nan() {
        low
    } else {
        b.level_at(now).clamp(low, high.max(low))
    };
    b.at = now;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::limits::headers::Announced;

    fn announce(d: Dim, limit: f64, remaining: f64, reset_ms: u64) -> Announcement {
        let mut a: Announcement = [None; 4];
        a[d.index()] = Some(Announced {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(Duration::from_millis(reset_ms)),
        });
        a
    }

    #[tokio::test(start_paused = true)]
    async fn an_announced_limit_paces_requests_to_it() {
        let l = Learned::default();
        let now = Instant::now();
        // 1200/min = 20/s, bucket of 20, 4 left after this answer (and nothing in flight).
        let t = l.admit([1.0, 0.0, 0.0, 0.0]).await;
        l.sent(&t, now);
        l.observe(
            &t,
            &announce(Dim::Requests, 1200.0, 4.0, 800),
            Outcome::Answered,
            None,
            now,
        );
        drop(t);
        let mut waits = Vec::new();
        for _ in 0..8 {
            let t = l.admit([1.0, 0.0, 0.0, 0.0]).await;
            waits.push(l.reserve(&t, now).0.as_millis());
        }
        // Four go at once, then one every 50 ms.
        assert_eq!(waits, [0, 0, 0, 0, 50, 100, 150, 200]);
        assert_eq!(l.report().announced[0], Some(1200.0));
    }

    #[tokio::test(start_paused = true)]
    async fn the_mirror_stays_within_what_the_server_can_have() {
        let l = Learned::default();
        let t0 = Instant::now();
        let a = l.admit([1.0, 0.0, 0.0, 0.0]).await;
        l.sent(&a, t0);
        l.observe(
            &a,
            &announce(Dim::Requests, 600.0, 5.0, 500),
            Outcome::Answered,
            None,
            t0,
        );
        drop(a);
        // Another client used the limit: the server says 0 left although we expected 5.
        let b = l.admit([1.0, 0.0, 0.0, 0.0]).await;
        assert_eq!(l.reserve(&b, t0).0, Duration::ZERO);
        l.sent(&b, t0);
        l.observe(
            &b,
            &announce(Dim::Requests, 600.0, 0.0, 1000),
            Outcome::Answered,
            None,
            t0,
        );
        drop(b);
        // At most 1 (a whole number hides a fraction) is left: the next waits 0, the one
        // after 100 ms.
        let c = l.admit([1.0, 0.0, 0.0, 0.0]).await;
        assert_eq!(l.reserve(&c, t0).0, Duration::ZERO);
        let d = l.admit([1.0, 0.0, 0.0, 0.0]).await;
        assert_eq!(l.reserve(&d, t0).0, Duration::from_millis(100));
        // A stale answer (sent before the last one applied) does not move the level.
        l.sent(&c, t0);
        l.sent(&d, t0);
        drop((c, d));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_request_and_without_headers_halves_the_window() {
        let l = Learned::default();
        let now = Instant::now();
        let mut tickets = Vec::new();
        for _ in 0..8 {
            tickets.push(l.admit([1.0, 0.0, 0.0, 0.0]).await);
        }
        for t in &tickets {
            l.sent(t, now);
        }
        let none: Announcement = [None; 4];
        // Two 429s of the same window halve it once.
        l.observe(
            &tickets[0],
            &none,
            Outcome::RateLimited,
            Some(Duration::from_millis(300)),
            now,
        );
        l.observe(&tickets[1], &none, Outcome::RateLimited, None, now);
        assert_eq!(l.paused_for(now), Duration::from_millis(300));
        assert_eq!(l.report().min_window, Some(4));
        assert_eq!(l.report().rate_limited, 2);
        tickets.clear();
        // Four in flight at most now.
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(l.admit([1.0, 0.0, 0.0, 0.0]).await);
        }
        let fifth =
            tokio::time::timeout(Duration::from_millis(10), l.admit([1.0, 0.0, 0.0, 0.0])).await;
        assert!(fifth.is_err(), "the window is full");
        // Answers widen it again: 4 answers add one.
        for t in &held {
            l.observe(t, &none, Outcome::Answered, None, now);
        }
        let fifth =
            tokio::time::timeout(Duration::from_millis(10), l.admit([1.0, 0.0, 0.0, 0.0])).await;
        assert!(fifth.is_ok(), "one more fits after a window of answers");
        // A 429 of a request admitted before the decrease does not halve again, a later one does.
        let late = fifth.unwrap();
        l.observe(&late, &none, Outcome::RateLimited, None, now);
        assert_eq!(l.report().min_window, Some(2));
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_are_reserved_by_estimate() {
        let l = Learned::default();
        let now = Instant::now();
        let t = l.admit([1.0, 100.0, 0.0, 0.0]).await;
        l.sent(&t, now);
        // 6000 tokens/min = 100/s, 150 left.
        l.observe(
            &t,
            &announce(Dim::Tokens, 6000.0, 150.0, 1000),
            Outcome::Answered,
            None,
            now,
        );
        drop(t);
        let a = l.admit([1.0, 100.0, 0.0, 0.0]).await;
        let b = l.admit([1.0, 100.0, 0.0, 0.0]).await;
        assert_eq!(l.reserve(&a, now), (Duration::ZERO, None));
        assert_eq!(
            l.reserve(&b, now),
            (Duration::from_millis(500), Some(Dim::Tokens))
        );
    }
}
