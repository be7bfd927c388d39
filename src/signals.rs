//! Stopping cleanly on Ctrl-C (SIGINT), SIGTERM and SIGHUP.
//!
//! `docker stop`, `timeout`, Kubernetes and CI cancellation send SIGTERM; closing a terminal
//! sends SIGHUP. All three are handled as Ctrl-C is: the run stops starting requests, keeps
//! every finished result, closes the results file validly (`complete: false`), writes the
//! reports, and exits with 128 + the signal's number (130, 143, 129).
//!
//! - [`install`] starts, once per process, a listener thread that records the first signal
//!   ([`received`]) and wakes whoever awaits [`wait`]. From then on these signals no longer
//!   end the process at once: code that must stop checks [`received`] between steps (snapshot
//!   writing) or awaits [`wait`] (the runner's driver loop). A second signal ends the process
//!   at once, for a run that does not stop.
//! - [`Signal::exit_code`] is the exit code a command returns after one.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

/// A signal that stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `docker stop`, `timeout`, CI cancellation.
    Terminate,
    /// SIGHUP: the terminal closed.
    Hangup,
}

impl Signal {
    /// The exit code after this signal: 128 + its number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
            Signal::Hangup => 129,
        }
    }

    /// `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    fn code(self) -> u8 {
        match self {
            Signal::Interrupt => 1,
            Signal::Terminate => 2,
            Signal::Hangup => 3,
        }
    }

    fn from_code(c: u8) -> Option<Signal> {
        match c {
            1 => Some(Signal::Interrupt),
            2 => Some(Signal::Terminate),
            3 => Some(Signal::Hangup),
            _ => None,
        }
    }
}

/// The first signal received (0: none).
static RECEIVED: AtomicU8 = AtomicU8::new(0);

fn notify() -> &'static Notify {
    static NOTIFY: Notify = Notify::const_new();
    &NOTIFY
}

/// Starts listening (once per process; later calls do nothing). Returns whether the
/// listener runs: when it cannot start, the signals keep their default action.
pub fn install() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<bool>();
        let spawned = std::thread::Builder::new()
            .name("promptdrift-signals".into())
            .spawn(move || listen(&ready_tx));
        // The handlers are in place once the listener says so: a signal sent right after
        // `install` returns is caught.
        spawned.is_ok() && ready_rx.recv().unwrap_or(false)
    })
}

fn listen(ready: &std::sync::mpsc::Sender<bool>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        let _ = ready.send(false);
        return;
    };
    rt.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                let _ = ready.send(false);
                return;
            };
            let _ = ready.send(true);
            loop {
                let s = tokio::select! {
                    _ = int.recv() => Signal::Interrupt,
                    _ = term.recv() => Signal::Terminate,
                    _ = hup.recv() => Signal::Hangup,
                };
                record(s);
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ready.send(true);
            loop {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                record(Signal::Interrupt);
            }
        }
    });
}

/// Records a signal: the first one is kept and wakes the waiters; a second one ends the
/// process at once.
fn record(s: Signal) {
    match RECEIVED.compare_exchange(0, s.code(), Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => notify().notify_waiters(),
        Err(first) => {
            let code = Signal::from_code(first).unwrap_or(s).exit_code();
            eprintln!("\n{}: stopping now", s.name());
            std::process::exit(i32::from(code));
        }
    }
}

/// The first signal received since [`install`], if any.
pub fn received() -> Option<Signal> {
    Signal::from_code(RECEIVED.load(Ordering::SeqCst))
}

/// Waits for a signal (returns at once if one was already received). Works on any tokio
/// runtime.
pub async fn wait() -> Signal {
    loop {
        let notified = notify().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(s) = received() {
            return s;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_number() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Hangup.exit_code(), 129);
        for s in [Signal::Interrupt, Signal::Terminate, Signal::Hangup] {
            assert_eq!(Signal::from_code(s.code()), Some(s));
        }
    }
}
