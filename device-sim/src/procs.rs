//! Several worker processes for one run: one process holds at most ~19,990 sockets here (open-file limit), so the
//! parent re-runs its own binary with a slice of the chargers each and merges their JSON reports (counts add,
//! histograms merge).

use std::process::Stdio;

use tokio::process::Command;

use crate::report::Report;
use crate::spec::SourceAddrList;

/// Sockets one worker process is given at most with `--procs auto`.
pub const SOCKETS_PER_PROC: u64 = 19_000;

/// Flags the parent sets per worker; the worker gets every other flag as the parent got it.
const PER_WORKER_FLAGS: [&str; 10] = [
    "--chargers",
    "--source-addrs",
    "--first-index",
    "--procs",
    "--report",
    "--report-file",
    "--progress",
    "--load-rate",
    "--ramp",
    "--worker",
];
/// Of those, the ones that take no value.
const SWITCHES: [&str; 2] = ["--progress", "--worker"];

/// Why the workers failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcsError {
    /// A worker could not be started.
    #[error("spawn worker: {0}")]
    Spawn(std::io::Error),
    /// A worker failed or printed no report.
    #[error("worker {index}: {detail}")]
    Worker {
        /// Which worker.
        index: usize,
        /// What went wrong.
        detail: String,
    },
}

/// How many workers `--procs auto` uses for `chargers`.
pub fn auto(chargers: u64) -> usize {
    usize::try_from(chargers.div_ceil(SOCKETS_PER_PROC).max(1)).unwrap_or(1)
}

/// `args` (without the program name) with the per-worker flags removed.
pub fn shared_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = a.split('=').next().unwrap_or(a);
        if PER_WORKER_FLAGS.contains(&name) {
            if !a.contains('=') && !SWITCHES.contains(&name) {
                it.next();
            }
            continue;
        }
        out.push(a.clone());
    }
    out
}

/// One worker's slice: its first index and charger count.
pub fn slices(chargers: u64, procs: usize) -> Vec<(u64, u64)> {
    let n = procs.max(1) as u64;
    (0..n)
        .map(|i| {
            let start = chargers * i / n;
            let end = chargers * (i + 1) / n;
            (start, end - start)
        })
        .collect()
}

/// Each worker's source addresses: disjoint contiguous shares when there are at least as many addresses as
/// workers (so no two processes compete for one address's ports), otherwise every worker gets them all.
pub fn split_addrs(addrs: &SourceAddrList, procs: usize) -> Vec<SourceAddrList> {
    let n = procs.max(1);
    if addrs.0.len() < n {
        return vec![addrs.clone(); n];
    }
    slices(addrs.0.len() as u64, n)
        .into_iter()
        .map(|(start, count)| {
            let (start, count) = (start as usize, count as usize);
            SourceAddrList(addrs.0.iter().skip(start).take(count).copied().collect())
        })
        .collect()
}

/// Runs `procs` workers of `exe` (`run` + `shared` + each slice's flags, rates divided by the slice's share, source
/// addresses split by [`split_addrs`]) and merges their reports.
pub async fn run_workers(
    exe: &std::path::Path,
    shared: &[String],
    chargers: u64,
    procs: usize,
    ramp: f64,
    load_rate: f64,
    source_addrs: &SourceAddrList,
) -> Result<Report, ProcsError> {
    let mut children = Vec::new();
    let addrs = split_addrs(source_addrs, procs);
    for ((start, count), addrs) in slices(chargers, procs).into_iter().zip(addrs) {
        let share = if chargers == 0 {
            0.0
        } else {
            count as f64 / chargers as f64
        };
        let mut cmd = Command::new(exe);
        cmd.args(shared)
            .arg("--worker")
            .arg(format!("--chargers={count}"))
            .arg(format!("--first-index={start}"))
            .arg("--procs=1")
            .arg("--report=json")
            .arg(format!("--ramp={}/s", (ramp * share).max(1.0)))
            .arg(format!("--load-rate={}/s", load_rate * share));
        if !addrs.0.is_empty() {
            cmd.arg(format!("--source-addrs={}", addrs.to_arg()));
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        children.push(cmd.spawn().map_err(ProcsError::Spawn)?);
    }
    let mut reports = Vec::new();
    for (index, child) in children.into_iter().enumerate() {
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| ProcsError::Worker {
                index,
                detail: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(ProcsError::Worker {
                index,
                detail: format!("exited with {}", out.status),
            });
        }
        let report: Report =
            serde_json::from_slice(&out.stdout).map_err(|e| ProcsError::Worker {
                index,
                detail: format!("report: {e}"),
            })?;
        reports.push(report);
    }
    Ok(Report::merge(&reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_get_slices_and_shared_flags() {
        assert_eq!(slices(10, 3), vec![(0, 3), (3, 3), (6, 4)]);
        assert_eq!(auto(19_000), 1);
        assert_eq!(auto(100_000), 6);
        let args: Vec<String> = [
            "run",
            "--chargers",
            "10",
            "--procs=2",
            "--progress",
            "--target",
            "x:1",
            "--source-addrs",
            "127.0.0.2-127.0.0.9",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(shared_args(&args), ["run", "--target", "x:1"]);
    }

    #[test]
    fn source_addresses_are_split_when_there_are_enough() {
        let eight = crate::spec::parse_source_addrs("127.0.0.2-127.0.0.9").unwrap();
        let split = split_addrs(&eight, 2);
        assert_eq!(split[0].to_arg(), "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5");
        assert_eq!(split[1].to_arg(), "127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9");
        let one = crate::spec::parse_source_addrs("127.0.0.2").unwrap();
        assert_eq!(split_addrs(&one, 3), vec![one.clone(); 3]);
        assert_eq!(split_addrs(&SourceAddrList::default(), 2)[1].0.len(), 0);
    }
}
