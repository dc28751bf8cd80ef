//! What a command writes as it goes: progress bars on stderr and a run's metrics, one JSON
//! line per record, in `RUNS_DIR/NAME/metrics.jsonl`.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// A progress bar on stderr of `len` units, labelled `what`.
pub(crate) fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Where a run's metrics go: `RUNS_DIR/NAME/metrics.jsonl` (`--runs-dir`, default `runs`), and
/// echoed on stdout with `--json`.
pub(crate) struct LogTo {
    pub runs_dir: PathBuf,
    pub echo: bool,
}

/// A run's metrics: one JSON line per record (with the wall time so far) into
/// `RUNS_DIR/NAME/metrics.jsonl`, echoed on stdout with `--json`.
pub(crate) struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
    echo: bool,
    pub started: Instant,
    error: Option<String>,
}

impl MetricsLog {
    /// Creates `RUNS_DIR/NAME/metrics.jsonl`.
    pub fn create(to: &LogTo, name: &str) -> Result<MetricsLog, String> {
        let (dir, echo) = (to.runs_dir.join(name), to.echo);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let path = dir.join("metrics.jsonl");
        let file = std::fs::File::create(&path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        Ok(MetricsLog {
            path,
            file,
            echo,
            started: Instant::now(),
            error: None,
        })
    }

    /// Writes one record; false (and the error kept for [`MetricsLog::finish`]) if it cannot.
    pub fn write(&mut self, record: &impl serde::Serialize) -> bool {
        let mut line = serde_json::to_value(record).unwrap_or_default();
        line["seconds"] = json!(self.started.elapsed().as_secs_f64());
        if self.echo {
            println!("{line}");
        }
        if let Err(e) = writeln!(self.file, "{line}") {
            self.error = Some(format!("writing {}: {e}", self.path.display()));
        }
        self.error.is_none()
    }

    /// The first write error, if any.
    pub fn finish(self) -> Result<PathBuf, String> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.path),
        }
    }
}
