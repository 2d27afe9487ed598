//! A learner's edit-to-verdict time, the runner's performance figure:
//! `kit dev first-verdict` (for contributors; its numbers are in the README).
//!
//! Each run is a save as the runner meets it: the file written, the watcher
//! reporting it, the grade started, and its lines read until the first
//! check's verdict, then to the last. Measured warm (one unmeasured run
//! first, so that the dependencies are built), on the pristine file and on
//! the solution's (the fixed exercise). The learner's file is put back as
//! it was on every way out.

use std::path::Path;
use std::time::{Duration, Instant};

use super::course::Lesson;
use super::grading::{GradeEvent, Grading};
use super::watch::Watch;

/// One save, timed.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub first_verdict: Duration,
    pub last_verdict: Duration,
}

/// Puts the learner's file back when dropped.
struct Restore<'a> {
    file: &'a Path,
    text: String,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let _ = std::fs::write(self.file, &self.text);
    }
}

/// `runs` saves of `text` into `lesson`'s file, each timed from the write.
pub fn saves(
    lesson: &Lesson,
    text: &str,
    runs: usize,
    scratch: &Path,
) -> Result<Vec<Sample>, String> {
    let original = std::fs::read_to_string(&lesson.file)
        .map_err(|e| format!("{}: {e}", lesson.file.display()))?;
    let _restore = Restore { file: &lesson.file, text: original };
    std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
    let watch = Watch::start(&lesson.folder)?;
    let stop = kit_serve::net::stop_flag();
    let mut samples = Vec::new();
    // The first run builds what the change needs and is not counted.
    for run in 0..=runs {
        // A file rewritten with the same bytes is still a save: cargo sees its time.
        std::thread::sleep(Duration::from_millis(1100));
        let saved = Instant::now();
        std::fs::write(&lesson.file, text).map_err(|e| e.to_string())?;
        while !watch.changed() {
            if saved.elapsed() > Duration::from_secs(10) {
                return Err("the watcher saw no save within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut grading = Grading::start(lesson, scratch).map_err(|e| e.to_string())?;
        let (mut first, mut last) = (None, None);
        loop {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("interrupted".into());
            }
            for event in grading.poll() {
                match event {
                    GradeEvent::Verdict { .. } => {
                        first.get_or_insert(saved.elapsed());
                        last = Some(saved.elapsed());
                    }
                    GradeEvent::Finished(f) if f.build_error.is_some() => {
                        return Err(format!(
                            "the grade did not build:\n{}",
                            f.build_error.unwrap_or_default()
                        ))
                    }
                    _ => {}
                }
            }
            if !grading.running() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let (Some(first_verdict), Some(last_verdict)) = (first, last) else {
            return Err(format!("the grade gave no verdict; its log: {}", grading.log_text()));
        };
        if run > 0 {
            samples.push(Sample { first_verdict, last_verdict });
        }
    }
    Ok(samples)
}

/// min / median / max of `values`, in seconds, as one cell.
pub fn spread(mut values: Vec<Duration>) -> String {
    values.sort();
    match values.as_slice() {
        [] => "-".into(),
        v => format!(
            "{:.1} / {:.1} / {:.1} s",
            v[0].as_secs_f64(),
            v[v.len() / 2].as_secs_f64(),
            v[v.len() - 1].as_secs_f64()
        ),
    }
}
