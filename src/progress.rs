//! A progress line on stderr for long scans (`--all`, `--history`), only
//! when stderr is a terminal: it is redrawn in place and erased at the end,
//! so logs and pipes never see it. It appears once the scan has run for
//! [`SHOW_AFTER`], whatever the number of items: a scan that ends sooner
//! needs none, and a slow one (large files, a cold disk) shows it early.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a scan runs before the progress line appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);
const REDRAW_EVERY: Duration = Duration::from_millis(200);

/// Counts finished items; a background thread draws `label: done/total`.
pub struct Progress {
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    drawer: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts the drawer on stderr if `enabled` and there is anything to do.
    pub fn start(label: &'static str, total: usize, enabled: bool) -> Progress {
        Progress::start_on(label, total, enabled, || std::io::stderr().lock())
    }

    /// The same, drawing on the stream `open` gives (tests pass a buffer).
    pub fn start_on<W: Write>(
        label: &'static str,
        total: usize,
        enabled: bool,
        open: impl Fn() -> W + Send + 'static,
    ) -> Progress {
        let done = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let drawer = (enabled && total > 0).then(|| {
            let (done, stop) = (Arc::clone(&done), Arc::clone(&stop));
            std::thread::spawn(move || {
                let started = Instant::now();
                // Parked, not polled: Drop unparks it, so a scan that ends
                // early is not kept waiting.
                while !stop.load(Ordering::Relaxed) && started.elapsed() < SHOW_AFTER {
                    std::thread::park_timeout(SHOW_AFTER.saturating_sub(started.elapsed()));
                }
                let mut drew = false;
                while !stop.load(Ordering::Relaxed) {
                    let mut out = open();
                    let _ = write!(
                        out,
                        "\r\x1b[2Kkeyguard: {label}: {}/{total}",
                        done.load(Ordering::Relaxed)
                    );
                    let _ = out.flush();
                    drop(out);
                    drew = true;
                    std::thread::park_timeout(REDRAW_EVERY);
                }
                if drew {
                    let _ = write!(open(), "\r\x1b[2K");
                }
            })
        });
        Progress { done, stop, drawer }
    }

    /// A progress that draws nothing.
    pub fn hidden() -> Progress {
        Progress::start("", 0, false)
    }

    pub fn inc(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(drawer) = self.drawer.take() {
            drawer.thread().unpark();
            let _ = drawer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A stream that appends to a shared buffer.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run_for(items: usize, how_long: Duration) -> (String, Duration) {
        let shared = Shared::default();
        let sink = shared.clone();
        let progress = Progress::start_on("files", items, true, move || sink.clone());
        progress.inc();
        std::thread::sleep(how_long);
        let ending = Instant::now();
        drop(progress);
        let drawn = String::from_utf8(shared.0.lock().unwrap().clone()).unwrap();
        (drawn, ending.elapsed())
    }

    #[test]
    fn a_short_scan_draws_nothing_and_is_not_held_up() {
        let (drawn, drop_took) = run_for(100_000, Duration::from_millis(50));
        assert_eq!(drawn, "", "a many-item scan shorter than SHOW_AFTER drew");
        assert!(drop_took < SHOW_AFTER / 2, "ending waited {drop_took:?}");
    }

    #[test]
    fn a_long_scan_draws_after_a_second_even_with_few_items() {
        let (drawn, _) = run_for(3, SHOW_AFTER + Duration::from_millis(400));
        assert!(drawn.contains("keyguard: files: 1/3"), "{drawn:?}");
        assert!(
            drawn.ends_with("\r\x1b[2K"),
            "the line is erased: {drawn:?}"
        );
    }
}
