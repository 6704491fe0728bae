//! A progress line on stderr for long scans (`--all`, `--history`), only
//! when stderr is a terminal: it is redrawn in place and erased at the end,
//! so logs and pipes never see it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Below this many items a scan is over before a progress line would help.
const MIN_ITEMS: usize = 2_000;
const REDRAW_EVERY: Duration = Duration::from_millis(200);

/// Counts finished items; a background thread draws `label: done/total`.
pub struct Progress {
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    drawer: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing if `enabled` and the scan is large enough.
    pub fn start(label: &'static str, total: usize, enabled: bool) -> Progress {
        let done = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let drawer = (enabled && total >= MIN_ITEMS).then(|| {
            let (done, stop) = (Arc::clone(&done), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut err = std::io::stderr().lock();
                    let _ = write!(
                        err,
                        "\r\x1b[2Kkeyguard: {label}: {}/{total}",
                        done.load(Ordering::Relaxed)
                    );
                    let _ = err.flush();
                    drop(err);
                    std::thread::sleep(REDRAW_EVERY);
                }
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
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
            let _ = drawer.join();
        }
    }
}
