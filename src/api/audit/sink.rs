//! Where audit events go: a bounded queue to one writer thread that appends JSON lines to a
//! file (rotated as kube-apiserver's lumberjack rotates it) or to standard output. A request
//! never waits for the disk: when the queue is full, or the disk is, the event is counted as
//! dropped and logged, and the request goes on.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use jiff::Timestamp;

/// Events that may wait for the writer (upstream's default buffer size).
pub const AUDIT_QUEUE_EVENTS: usize = 10_000;
/// A log file's size before it is rotated when `--audit-log-maxsize` is 0 (lumberjack's default).
const DEFAULT_MAX_SIZE_MB: u64 = 100;
const BYTES_PER_MB: u64 = 1024 * 1024;
/// lumberjack's backup time format: Go's `2006-01-02T15-04-05.000`, in UTC.
const BACKUP_TIME_FORMAT: &str = "%Y-%m-%dT%H-%M-%S.%3f";

/// Where and how the audit log is written (the `--audit-log-*` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLogOptions {
    /// The file; `-` is standard output.
    pub path: PathBuf,
    /// Megabytes before rotation; 0 is lumberjack's 100.
    pub max_size_mb: u64,
    /// Rotated files kept; 0 keeps all.
    pub max_backups: usize,
}

/// The audit log's front end; cheap to clone. Disabled when no path is configured.
#[derive(Clone, Default)]
pub struct AuditLog {
    inner: Option<Arc<Sender>>,
}

struct Sender {
    queue: SyncSender<Vec<u8>>,
    dropped: AtomicU64,
}

impl AuditLog {
    /// A log that records nothing.
    pub fn disabled() -> AuditLog {
        AuditLog::default()
    }

    /// Starts the writer thread for `options`; the file is opened (and created) now, so a bad
    /// path fails start-up rather than every request.
    pub fn start(options: &AuditLogOptions) -> std::io::Result<AuditLog> {
        AuditLog::start_with_queue(options, AUDIT_QUEUE_EVENTS)
    }

    /// [`AuditLog::start`] with a queue of `queue_events`, for tests of a full queue.
    pub fn start_with_queue(
        options: &AuditLogOptions,
        queue_events: usize,
    ) -> std::io::Result<AuditLog> {
        let mut output = if options.path.as_os_str() == "-" {
            Output::Stdout
        } else {
            Output::File(RotatingFile::open(options)?)
        };
        let (queue, lines) = sync_channel(queue_events);
        std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || write_lines(&mut output, &lines))?;
        Ok(AuditLog {
            inner: Some(Arc::new(Sender {
                queue,
                dropped: AtomicU64::new(0),
            })),
        })
    }

    /// Whether events are recorded at all.
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Queues one event, never waiting: a full queue drops it (counted and logged).
    pub fn record(&self, event: &super::event::Event) {
        let Some(sender) = &self.inner else {
            return;
        };
        let mut line = match serde_json::to_vec(event) {
            Ok(line) => line,
            Err(error) => {
                tracing::error!(%error, "audit event cannot be encoded");
                return;
            }
        };
        line.push(b'\n');
        match sender.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let dropped = sender.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Once per power of two: a flood is visible without flooding the log itself.
                if dropped.is_power_of_two() {
                    tracing::warn!(dropped, "audit queue is full; events dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                sender.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |s| s.dropped.load(Ordering::Relaxed))
    }
}

enum Output {
    Stdout,
    File(RotatingFile),
}

/// The writer thread: appends each queued line, writing whatever is queued at once.
fn write_lines(output: &mut Output, lines: &Receiver<Vec<u8>>) {
    let mut failed: u64 = 0;
    while let Ok(first) = lines.recv() {
        let mut batch = vec![first];
        batch.extend(lines.try_iter().take(1024));
        for line in batch {
            let written = match output {
                Output::Stdout => std::io::stdout().lock().write_all(&line),
                Output::File(file) => file.write_line(&line),
            };
            if let Err(error) = written {
                failed += 1;
                if failed.is_power_of_two() {
                    tracing::warn!(%error, failed, "audit event could not be written; dropped");
                }
            }
        }
    }
}

/// A log file rotated by size as lumberjack does: the full file is renamed to
/// `NAME-2006-01-02T15-04-05.000.EXT` (UTC) and a new one started; the oldest rotated files
/// beyond `max_backups` are removed.
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    max_backups: usize,
    file: Option<File>,
    size: u64,
}

impl RotatingFile {
    /// Opens (or creates) the file at `options.path`, appending.
    pub fn open(options: &AuditLogOptions) -> std::io::Result<RotatingFile> {
        let max_size_mb = match options.max_size_mb {
            0 => DEFAULT_MAX_SIZE_MB,
            mb => mb,
        };
        let mut file = RotatingFile {
            path: options.path.clone(),
            max_bytes: max_size_mb.saturating_mul(BYTES_PER_MB),
            max_backups: options.max_backups,
            file: None,
            size: 0,
        };
        file.open_existing_or_new()?;
        Ok(file)
    }

    /// [`RotatingFile::open`] with a size limit in bytes, for tests.
    pub fn open_with_limit(
        path: &Path,
        max_bytes: u64,
        max_backups: usize,
    ) -> std::io::Result<RotatingFile> {
        let mut file = RotatingFile {
            path: path.to_owned(),
            max_bytes,
            max_backups,
            file: None,
            size: 0,
        };
        file.open_existing_or_new()?;
        Ok(file)
    }

    fn open_existing_or_new(&mut self) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = new_file_options().append(true).open(&self.path)?;
        self.size = file.metadata()?.len();
        self.file = Some(file);
        Ok(())
    }

    /// Appends one line, rotating first when it would not fit.
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64;
        if len > self.max_bytes {
            return Err(std::io::Error::other(format!(
                "write length {len} exceeds maximum file size {}",
                self.max_bytes
            )));
        }
        if self.file.is_none() {
            self.open_existing_or_new()?;
        }
        if self.size + len > self.max_bytes {
            self.rotate()?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("audit log file is not open"));
        };
        match file.write_all(line) {
            Ok(()) => {
                self.size += len;
                Ok(())
            }
            Err(error) => {
                // A partial line (a full disk) would corrupt the next one: reopen and let the
                // size be read again from the file.
                self.file = None;
                Err(error)
            }
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file = None;
        let backup = backup_name(&self.path, Timestamp::now());
        std::fs::rename(&self.path, &backup)?;
        let file = new_file_options().append(true).open(&self.path)?;
        self.file = Some(file);
        self.size = 0;
        self.remove_old_backups();
        Ok(())
    }

    /// Removes rotated files beyond `max_backups`, oldest first (their names sort by time).
    fn remove_old_backups(&self) {
        if self.max_backups == 0 {
            return;
        }
        let mut backups = backups_of(&self.path);
        backups.sort();
        let excess = backups.len().saturating_sub(self.max_backups);
        for old in backups.into_iter().take(excess) {
            if let Err(error) = std::fs::remove_file(&old) {
                tracing::warn!(%error, file = %old.display(), "old audit log could not be removed");
            }
        }
    }
}

fn new_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.create(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// The name and extension of a log file: `audit.log` → (`audit`, `.log`).
fn prefix_and_ext(path: &Path) -> (String, String) {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let prefix = file_name[..file_name.len() - ext.len()].to_owned();
    (prefix, ext)
}

/// lumberjack's `backupName`: `DIR/PREFIX-TIME.EXT`.
pub fn backup_name(path: &Path, at: Timestamp) -> PathBuf {
    let (prefix, ext) = prefix_and_ext(path);
    let time = at.strftime(BACKUP_TIME_FORMAT);
    path.with_file_name(format!("{prefix}-{time}{ext}"))
}

/// The rotated files of `path` in its directory.
pub fn backups_of(path: &Path) -> Vec<PathBuf> {
    let (prefix, ext) = prefix_and_ext(path);
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_owned(),
        None => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let head = format!("{prefix}-");
    entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.strip_prefix(&head)
                .and_then(|rest| rest.strip_suffix(&ext))
                .is_some_and(|time| time.len() == "2006-01-02T15-04-05.000".len())
        })
        .map(|name| dir.join(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names_follow_lumberjack() {
        let at: Timestamp = "2026-12-05T06:07:08.123456Z".parse().expect("timestamp");
        assert_eq!(
            backup_name(Path::new("/var/log/audit.log"), at),
            PathBuf::from("/var/log/audit-2026-12-05T06-07-08.123.log")
        );
        assert_eq!(
            backup_name(Path::new("audit"), at),
            PathBuf::from("audit-2026-12-05T06-07-08.123")
        );
    }

    #[test]
    fn a_line_that_does_not_fit_rotates_and_old_backups_go() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("audit.log");
        let mut file = RotatingFile::open_with_limit(&path, 20, 2).expect("open");
        for i in 0..5 {
            file.write_line(format!("line {i} 123456789\n").as_bytes())
                .expect("write");
            // Backup names have millisecond resolution.
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(
            std::fs::read_to_string(&path).expect("current"),
            "line 4 123456789\n"
        );
        let mut backups = backups_of(&path);
        backups.sort();
        assert_eq!(backups.len(), 2, "{backups:?}");
        assert_eq!(
            std::fs::read_to_string(&backups[1]).expect("newest backup"),
            "line 3 123456789\n"
        );
        assert!(file.write_line(&[b'x'; 21]).is_err());
    }
}

#[cfg(test)]
mod queue_tests {
    use super::*;
    use crate::api::audit::event::{Event, Level, MicroTime};

    fn event() -> Event {
        Event {
            kind: "Event",
            api_version: "audit.k8s.io/v1",
            level: Level::Metadata,
            audit_id: "id".into(),
            stage: "ResponseComplete",
            request_uri: "/api/v1/namespaces".into(),
            verb: "list".into(),
            user: Default::default(),
            source_ips: Vec::new(),
            user_agent: String::new(),
            object_ref: None,
            response_status: None,
            request_object: None,
            response_object: None,
            request_received_timestamp: MicroTime::now(),
            stage_timestamp: MicroTime::now(),
            annotations: Default::default(),
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let (queue, _stalled_writer) = sync_channel(2);
        let log = AuditLog {
            inner: Some(Arc::new(Sender {
                queue,
                dropped: AtomicU64::new(0),
            })),
        };
        for _ in 0..5 {
            log.record(&event());
        }
        assert_eq!(log.dropped(), 3);
    }
}
