//! Real processes on a real file mapping: a writer and readers in child
//! processes, and a writer killed with SIGKILL mid-write.
//!
//! The children are this test binary run again with `VIVACE_SHM_ROLE` set:
//! the `child_*` tests do nothing unless that variable names them.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use std::time::{Duration, Instant};

use common::{Cleanup, region_path, ticker};
use vivace_market_shm::{
    Error, Interval, Kline, LayoutConfig, Reader, TickerField, WaitMode, Writer, WriterStatus,
};

const ROLE: &str = "VIVACE_SHM_ROLE";
const PATH: &str = "VIVACE_SHM_PATH";
const SYMBOLS: usize = 8;
const UPDATES: u64 = 300_000;

fn config() -> LayoutConfig {
    LayoutConfig {
        symbols: SYMBOLS,
        intervals: vec![Interval::M1],
        kline_capacity: 64,
    }
}

fn role() -> Option<(String, PathBuf)> {
    Some((
        std::env::var(ROLE).ok()?,
        PathBuf::from(std::env::var(PATH).ok()?),
    ))
}

/// A child process and its buffered stdout.
struct Proc {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Proc {
    fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()
    }
    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.child.wait()
    }
}

fn spawn(role: &str, test: &str, path: &Path) -> Proc {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(PATH, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    Proc { child, out }
}

/// Reads the child's stdout until a line containing `prefix` (the test
/// harness prints "test NAME ... " before the child's first line); returns
/// the line from `prefix` on.
fn line_starting(child: &mut Proc, prefix: &str) -> String {
    let reader = &mut child.out;
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "child ended before printing {prefix}"
        );
        if let Some(at) = line.find(prefix) {
            return line[at..].trim().to_string();
        }
    }
}

fn kline(i: u64) -> Kline {
    let x = i as f64;
    Kline {
        open_time: x,
        open: x,
        high: x,
        low: x,
        close: x,
        volume: x,
    }
}

/// Child: writes `UPDATES` checksummed ticker updates and one kline per 16,
/// then detaches cleanly.
#[test]
fn child_writer() {
    let Some((role, path)) = role() else { return };
    if role != "writer" {
        return;
    }
    let mut w = Writer::open_or_create(&path, config()).unwrap();
    println!("READY");
    // Give the readers time to map the file.
    std::thread::sleep(Duration::from_millis(300));
    for i in 1..=UPDATES {
        let s = (i as usize) % SYMBOLS;
        w.write_ticker(s, &ticker(s, i)).unwrap();
        if i % 16 == 0 {
            w.push_kline(s, Interval::M1, &kline(i / 16)).unwrap();
        }
    }
    println!("DONE");
}

/// Child: reads until the writer detaches; prints what it saw.
#[test]
fn child_reader() {
    let Some((role, path)) = role() else { return };
    if role != "reader" {
        return;
    }
    let r = Reader::open(&path).unwrap();
    let mut cursors: Vec<_> = (0..SYMBOLS)
        .map(|s| r.kline_cursor(s, Interval::M1).unwrap())
        .collect();
    let (mut reads, mut torn, mut klines, mut bad_klines) = (0u64, 0u64, 0u64, 0u64);
    let mut last_index = [None::<f64>; SYMBOLS];
    let mut out = Vec::new();
    println!("READY");
    loop {
        let closed = r.writer_status() == WriterStatus::Closed;
        for s in 0..SYMBOLS {
            let t = r.ticker(s).unwrap();
            reads += 1;
            if t.get(TickerField::Timestamp) != 0.0 && !t.checksum_ok() {
                torn += 1;
            }
            out.clear();
            let got = r.read_new_klines(&mut cursors[s], &mut out).unwrap();
            for k in &out {
                // Klines of one symbol arrive in order, fields consistent.
                let ok = [k.open, k.high, k.low, k.close, k.volume]
                    .iter()
                    .all(|&v| v == k.open_time)
                    && last_index[s].is_none_or(|l| k.open_time > l);
                bad_klines += u64::from(!ok);
                last_index[s] = Some(k.open_time);
            }
            klines += got.read as u64;
        }
        if closed {
            break;
        }
    }
    println!("RESULT reads={reads} torn={torn} klines={klines} bad_klines={bad_klines}");
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} missing in {line}"))
        .parse()
        .unwrap()
}

#[test]
fn a_writer_process_and_two_reader_processes_share_the_file() {
    if role().is_some() {
        return;
    }
    let path = region_path("xproc");
    let _cleanup = Cleanup(path.clone());
    let mut writer = spawn("writer", "child_writer", &path);
    line_starting(&mut writer, "READY");
    let mut readers: Vec<Proc> = (0..2)
        .map(|_| spawn("reader", "child_reader", &path))
        .collect();
    for r in &mut readers {
        line_starting(r, "READY");
    }
    // This process watches too, blocking on the futex.
    let me = Reader::open(&path).unwrap();
    let seen = me.update_count();
    let now = me
        .wait_for_update(seen, Duration::from_secs(20), WaitMode::Block)
        .unwrap();
    assert!(now > seen);
    line_starting(&mut writer, "DONE");
    assert!(writer.wait().unwrap().success());
    for mut r in readers {
        let result = line_starting(&mut r, "RESULT");
        assert!(r.wait().unwrap().success());
        eprintln!("{result}");
        assert_eq!(field(&result, "torn"), 0, "{result}");
        assert_eq!(field(&result, "bad_klines"), 0, "{result}");
        assert!(field(&result, "reads") > 0);
        assert!(field(&result, "klines") > 0);
    }
    assert_eq!(me.update_count(), UPDATES + UPDATES / 16);
}

/// Child: takes the writer role, publishes a few tickers, then starts an
/// in-place update of symbol 5 and hangs inside it until killed.
#[test]
fn child_writer_hangs_mid_write() {
    let Some((role, path)) = role() else { return };
    if role != "hang" {
        return;
    }
    let mut w = Writer::open_or_create(&path, config()).unwrap();
    for s in 0..SYMBOLS {
        w.write_ticker(s, &ticker(s, 1)).unwrap();
    }
    w.update_ticker(5, |t| {
        t.set(TickerField::Bid, 1e9);
        println!("MIDWRITE");
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    })
    .unwrap();
}

#[test]
fn kill_9_mid_write_gives_writer_dead_then_take_over_repairs() {
    if role().is_some() {
        return;
    }
    let path = region_path("kill");
    let _cleanup = Cleanup(path.clone());
    let mut child = spawn("hang", "child_writer_hangs_mid_write", &path);
    line_starting(&mut child, "MIDWRITE");
    let mut r = Reader::open(&path).unwrap();
    r.set_stall_timeout(Duration::from_millis(100));
    // Alive but stuck: a typed error, not an endless spin, and no torn data.
    assert!(matches!(r.ticker(5), Err(Error::WriterStalled(_))));
    assert_eq!(r.ticker(4).unwrap(), ticker(4, 1));
    // The live writer's lock holds.
    assert!(matches!(
        Writer::open_or_create(&path, config()),
        Err(Error::WriterExists { pid: Some(_) })
    ));

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let start = Instant::now();
    assert!(matches!(r.ticker(5), Err(Error::WriterDead { .. })));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(r.writer_status(), WriterStatus::Dead);
    assert!(matches!(
        r.wait_for_update(r.update_count(), Duration::from_millis(20), WaitMode::Block),
        Err(Error::WriterDead { .. })
    ));

    // A new writer takes over and repairs the half-written record.
    let mut w = Writer::open_or_create(&path, config()).unwrap();
    assert_eq!(w.repair().tickers, 1);
    assert_eq!(w.repair().total(), 1);
    assert_eq!(r.ticker(5).unwrap().0, [0.0; 10]);
    assert_eq!(r.ticker(4).unwrap(), ticker(4, 1));
    w.write_ticker(5, &ticker(5, 2)).unwrap();
    assert_eq!(r.ticker(5).unwrap(), ticker(5, 2));
    assert_eq!(r.writer_status(), WriterStatus::Active);
}

/// Child: writes checksummed tickers and klines at full speed until killed.
#[test]
fn child_writer_until_killed() {
    let Some((role, path)) = role() else { return };
    if role != "spin" {
        return;
    }
    let mut w = Writer::open_or_create(&path, config()).unwrap();
    println!("RUNNING");
    let mut i = 1u64;
    loop {
        let s = (i as usize) % SYMBOLS;
        w.write_ticker(s, &ticker(s, i)).unwrap();
        w.push_kline(s, Interval::M1, &kline(i)).unwrap();
        i += 1;
    }
}

#[test]
fn kill_9_at_full_speed_never_yields_torn_records() {
    if role().is_some() {
        return;
    }
    for round in 0..5 {
        let path = region_path("killspin");
        let _cleanup = Cleanup(path.clone());
        let mut child = spawn("spin", "child_writer_until_killed", &path);
        line_starting(&mut child, "RUNNING");
        let mut r = Reader::open(&path).unwrap();
        r.set_stall_timeout(Duration::from_millis(50));
        let kill_at = Instant::now() + Duration::from_millis(100 + 40 * round);
        let mut killed = false;
        let (mut ok, mut dead) = (0u64, 0u64);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "reader never settled");
            if !killed && Instant::now() >= kill_at {
                child.kill().unwrap();
                child.wait().unwrap();
                killed = true;
            }
            for s in 0..SYMBOLS {
                match r.ticker(s) {
                    Ok(t) => {
                        assert!(
                            t.get(TickerField::Timestamp) == 0.0 || t.checksum_ok(),
                            "torn ticker {t:?}"
                        );
                        ok += 1;
                    }
                    Err(Error::WriterDead { .. }) => dead += 1,
                    Err(e) => panic!("unexpected {e}"),
                }
                if let Ok(Some(k)) = r.latest_kline(s, Interval::M1) {
                    assert!(
                        [k.open, k.high, k.low, k.close, k.volume]
                            .iter()
                            .all(|&v| v == k.open_time)
                    );
                }
            }
            if killed && r.writer_status() == WriterStatus::Dead {
                break;
            }
        }
        // After the kill every read settles: consistent, or WriterDead.
        let w = Writer::open_or_create(&path, config()).unwrap();
        for s in 0..SYMBOLS {
            let t = r.ticker(s).unwrap();
            assert!(t.get(TickerField::Timestamp) == 0.0 || t.checksum_ok());
        }
        eprintln!(
            "round {round}: {ok} consistent reads, {dead} WriterDead, repaired {:?}",
            w.repair()
        );
        assert!(ok > 0);
    }
}
