//! A performance monitor the other crates can feed.

use std::fmt;

use crate::{Error, FrameStats};

/// What limits the frame rate, judged from the fed metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Bottleneck {
    /// Frames fit the budget (p95 within it).
    None,
    /// GPU compute takes most of the frame.
    Gpu,
    /// Waiting on worker-pool tasks takes most of the frame.
    Workers,
    /// Neither: the main thread's own work.
    MainThread,
}

impl fmt::Display for Bottleneck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bottleneck::None => "none (within budget)",
            Bottleneck::Gpu => "GPU compute",
            Bottleneck::Workers => "worker pool",
            Bottleneck::MainThread => "main thread",
        })
    }
}

/// A snapshot of the monitor.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PerformanceReport {
    /// Target frames per second.
    pub target_fps: f64,
    /// Frames per second (from the mean frame time).
    pub fps: f64,
    /// Mean frame time, ms.
    pub frame_ms_mean: f64,
    /// 95th percentile frame time, ms.
    pub frame_ms_p95: f64,
    /// 99th percentile frame time, ms.
    pub frame_ms_p99: f64,
    /// Quality in use.
    pub quality: f64,
    /// Worker-pool tasks completed per second of frame time.
    pub tasks_per_s: f64,
    /// Mean worker task latency, ms.
    pub task_latency_ms_mean: f64,
    /// 99th percentile worker task latency, ms.
    pub task_latency_ms_p99: f64,
    /// Mean GPU compute latency, ms.
    pub gpu_latency_ms_mean: f64,
    /// The verdict.
    pub bottleneck: Bottleneck,
    /// Samples rejected as invalid (NaN, ≤ 0) across all metrics.
    pub rejected_samples: u64,
}

impl PerformanceReport {
    /// The report as pretty-printed JSON.
    #[cfg(feature = "serde")]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report of plain numbers always serialises")
    }
}

impl fmt::Display for PerformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fps          {:8.1} (target {:.0})",
            self.fps, self.target_fps
        )?;
        writeln!(
            f,
            "frame time   {:8.2} ms mean, {:.2} p95, {:.2} p99",
            self.frame_ms_mean, self.frame_ms_p95, self.frame_ms_p99
        )?;
        writeln!(f, "quality      {:8.3}", self.quality)?;
        writeln!(
            f,
            "worker pool  {:8.0} tasks/s, latency {:.3} ms mean, {:.3} p99",
            self.tasks_per_s, self.task_latency_ms_mean, self.task_latency_ms_p99
        )?;
        writeln!(
            f,
            "gpu compute  {:8.3} ms mean latency",
            self.gpu_latency_ms_mean
        )?;
        write!(f, "bottleneck   {}", self.bottleneck)
    }
}

/// Collects the origin's metrics (frame times, quality, worker tasks, GPU
/// latency) in fixed-size rings and judges the bottleneck. Feeding it
/// allocates nothing.
///
/// ```
/// use vivace_perf_adapt::{Bottleneck, PerformanceMonitor};
/// let mut monitor = PerformanceMonitor::new(60.0, 120).unwrap();
/// for _ in 0..100 {
///     monitor.record_gpu(20.0);
///     monitor.record_frame(22.0);
/// }
/// let report = monitor.report();
/// assert_eq!(report.bottleneck, Bottleneck::Gpu);
/// println!("{report}");
/// ```
#[derive(Debug, Clone)]
pub struct PerformanceMonitor {
    target_fps: f64,
    frames: FrameStats,
    tasks: FrameStats,
    gpu: FrameStats,
    /// Tasks completed in each recent frame, aligned with `frames`.
    tasks_per_frame: Vec<u32>,
    next_frame: usize,
    tasks_this_frame: u32,
    /// Task latency summed within the current frame, ms.
    task_ms_this_frame: f64,
    task_ms_per_frame: Vec<f64>,
    quality: f64,
}

impl PerformanceMonitor {
    /// A monitor for `target_fps` keeping the last `window` samples of each
    /// metric.
    pub fn new(target_fps: f64, window: usize) -> Result<Self, Error> {
        crate::error::check_range("target_fps", target_fps, 1e-3, 10_000.0)?;
        Ok(PerformanceMonitor {
            target_fps,
            frames: FrameStats::new(window)?,
            tasks: FrameStats::new(window)?,
            gpu: FrameStats::new(window)?,
            tasks_per_frame: vec![0; window],
            task_ms_per_frame: vec![0.0; window],
            next_frame: 0,
            tasks_this_frame: 0,
            task_ms_this_frame: 0.0,
            quality: 1.0,
        })
    }

    /// A finished frame of `frame_ms`; closes the frame's task count.
    pub fn record_frame(&mut self, frame_ms: f64) {
        if self.frames.push(frame_ms) == crate::SampleOutcome::Rejected {
            return;
        }
        let window = self.tasks_per_frame.len();
        self.tasks_per_frame[self.next_frame] = self.tasks_this_frame;
        self.task_ms_per_frame[self.next_frame] = self.task_ms_this_frame;
        self.next_frame = (self.next_frame + 1) % window;
        self.tasks_this_frame = 0;
        self.task_ms_this_frame = 0.0;
    }

    /// A worker-pool task finished after `latency_ms` (queueing + work) that
    /// the frame waited on.
    pub fn record_task(&mut self, latency_ms: f64) {
        if self.tasks.push(latency_ms) != crate::SampleOutcome::Rejected {
            self.tasks_this_frame += 1;
            self.task_ms_this_frame += latency_ms;
        }
    }

    /// A GPU dispatch (submit to result) took `latency_ms`.
    pub fn record_gpu(&mut self, latency_ms: f64) {
        self.gpu.push(latency_ms);
    }

    /// The quality in use.
    pub fn set_quality(&mut self, quality: f64) {
        if quality.is_finite() {
            self.quality = quality;
        }
    }

    /// A snapshot of every metric and the bottleneck verdict.
    pub fn report(&mut self) -> PerformanceReport {
        let budget = 1000.0 / self.target_fps;
        let frames = self.frames.len();
        let frame_sum = self.frames.mean() * frames as f64;
        let window = self.tasks_per_frame.len();
        // The last `frames` closed frames' task counts and task time.
        let slot = |k: usize| (self.next_frame + window - 1 - k) % window;
        let tasks: f64 = (0..frames)
            .map(|k| f64::from(self.tasks_per_frame[slot(k)]))
            .sum();
        let task_ms: f64 = (0..frames).map(|k| self.task_ms_per_frame[slot(k)]).sum();
        let frame_mean = self.frames.mean();
        let p95 = self.frames.p95();
        let gpu_mean = self.gpu.mean();
        let task_ms_per_frame = if frames > 0 {
            task_ms / frames as f64
        } else {
            0.0
        };
        let bottleneck = if frames == 0 || p95 <= budget {
            Bottleneck::None
        } else if gpu_mean >= 0.6 * frame_mean {
            Bottleneck::Gpu
        } else if task_ms_per_frame >= 0.6 * frame_mean {
            Bottleneck::Workers
        } else {
            Bottleneck::MainThread
        };
        PerformanceReport {
            target_fps: self.target_fps,
            fps: self.frames.fps(),
            frame_ms_mean: frame_mean,
            frame_ms_p95: p95,
            frame_ms_p99: self.frames.p99(),
            quality: self.quality,
            tasks_per_s: if frame_sum > 0.0 {
                tasks / frame_sum * 1000.0
            } else {
                0.0
            },
            task_latency_ms_mean: self.tasks.mean(),
            task_latency_ms_p99: self.tasks.p99(),
            gpu_latency_ms_mean: gpu_mean,
            bottleneck,
            rejected_samples: self.frames.rejected() + self.tasks.rejected() + self.gpu.rejected(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_budget_is_no_bottleneck() {
        let mut m = PerformanceMonitor::new(60.0, 60).unwrap();
        for _ in 0..60 {
            m.record_frame(12.0);
        }
        let r = m.report();
        assert_eq!(r.bottleneck, Bottleneck::None);
        assert!((r.fps - 1000.0 / 12.0).abs() < 1e-9);
    }

    #[test]
    fn verdicts_follow_where_the_time_goes() {
        let mut workers = PerformanceMonitor::new(60.0, 60).unwrap();
        for _ in 0..60 {
            for _ in 0..4 {
                workers.record_task(5.0);
            }
            workers.record_frame(25.0);
        }
        let r = workers.report();
        assert_eq!(r.bottleneck, Bottleneck::Workers);
        // 4 tasks per 25 ms frame = 160 tasks/s.
        assert!((r.tasks_per_s - 160.0).abs() < 1e-9, "{}", r.tasks_per_s);
        assert_eq!(r.task_latency_ms_mean, 5.0);

        let mut main = PerformanceMonitor::new(60.0, 60).unwrap();
        for _ in 0..60 {
            main.record_gpu(2.0);
            main.record_frame(30.0);
        }
        assert_eq!(main.report().bottleneck, Bottleneck::MainThread);
    }

    #[test]
    fn bad_samples_are_counted_not_used() {
        let mut m = PerformanceMonitor::new(60.0, 10).unwrap();
        m.record_frame(f64::NAN);
        m.record_task(-1.0);
        m.record_gpu(f64::INFINITY);
        m.record_frame(10.0);
        let r = m.report();
        assert_eq!(r.rejected_samples, 3);
        assert_eq!(r.frame_ms_mean, 10.0);
        assert!(r.to_string().contains("bottleneck"));
        assert!(PerformanceMonitor::new(0.0, 10).is_err());
        assert!(PerformanceMonitor::new(60.0, 0).is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn report_serialises_to_json() {
        let mut m = PerformanceMonitor::new(60.0, 10).unwrap();
        m.record_frame(20.0);
        let json = m.report().to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["frame_ms_mean"], 20.0);
        assert_eq!(value["bottleneck"], "MainThread");
    }
}
