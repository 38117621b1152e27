//! The open-file limit: raised from soft to hard at start, and turned into the connection ceiling the operator
//! should expect (each charger costs one descriptor).

/// Descriptors kept back for listeners, log files, the HTTP server, the MQTT link and sinks.
pub const FD_RESERVE: u64 = 64;

/// The open-file limit after raising it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    /// Soft limit in force.
    pub soft: u64,
    /// Hard limit (the most an unprivileged process may set).
    pub hard: u64,
}

impl FdLimit {
    /// Connections this process can hold at most.
    pub fn connection_ceiling(&self) -> u64 {
        self.soft.saturating_sub(FD_RESERVE)
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and reports both; on failure reports what is in force.
pub fn raise_nofile_limit() -> std::io::Result<FdLimit> {
    let soft = rlimit::increase_nofile_limit(u64::MAX)?;
    let (_, hard) = rlimit::Resource::NOFILE.get()?;
    Ok(FdLimit { soft, hard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_reaches_the_hard_limit() {
        let l = raise_nofile_limit().unwrap();
        assert_eq!(l.soft, l.hard.min(l.soft.max(l.hard)));
        assert!(l.connection_ceiling() < l.soft);
    }
}
