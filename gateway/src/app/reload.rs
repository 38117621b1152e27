//! Configuration reload (SIGHUP): re-reads what can change without dropping a connection — the charger registry
//! file and the codec rollout plans (`[rollout.<codec>]`). A charger picks up a new plan at its next login; a
//! removed section clears the plan (everyone back on the first registered version). Everything else in the file
//! (listeners, limits) needs a restart and is ignored here.
//!
//! The reload is all-or-nothing per part: a registry file that does not parse keeps the old one; a plan naming an
//! unregistered version keeps that codec's old plan. The outcome is logged and counted in
//! `chargegate_config_reloads_total{result}`.

use std::sync::Arc;

use chargegate_codec::plugin::CodecRegistry;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;
use crate::pipeline::charger_registry::ChargerRegistry;

/// `result` label of a reload that applied everything.
pub const RELOAD_OK: &str = "ok";
/// `result` label of a reload with at least one part refused.
pub const RELOAD_ERROR: &str = "error";

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// Chargers in the registry after the reload (`None` without a registry).
    pub chargers: Option<usize>,
    /// Codec names whose rollout plan is now installed.
    pub rollouts: Vec<String>,
    /// What was refused, as `key: reason`.
    pub errors: Vec<String>,
}

impl ReloadOutcome {
    /// True when every part was applied.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Installs the rollout plans of `config` (and clears those it no longer names).
pub fn apply_rollouts(codecs: &CodecRegistry, config: &Config, outcome: &mut ReloadOutcome) {
    for name in codecs.rollout_names() {
        if !config.rollout.contains_key(&name) {
            codecs.clear_rollout(&name);
        }
    }
    for (name, plan) in &config.rollout {
        match codecs.set_rollout(name, plan.plan()) {
            Ok(()) => outcome.rollouts.push(name.clone()),
            Err(e) => outcome.errors.push(format!("rollout.{name}: {e}")),
        }
    }
}

/// Reloads the registry file and the rollout plans from `config`; logs and counts the outcome.
pub fn reload(
    config: &Config,
    registry: Option<&ChargerRegistry>,
    codecs: &CodecRegistry,
    metrics: &Metrics,
) -> ReloadOutcome {
    let mut outcome = ReloadOutcome::default();
    if let Some(registry) = registry {
        match registry.reload() {
            Ok(n) => outcome.chargers = Some(n),
            Err(e) => outcome.errors.push(format!("registry_file: {e}")),
        }
    }
    apply_rollouts(codecs, config, &mut outcome);
    let result = if outcome.is_ok() {
        tracing::info!(chargers = ?outcome.chargers, rollouts = ?outcome.rollouts, "configuration reloaded");
        RELOAD_OK
    } else {
        tracing::error!(code = "reload_failed", errors = ?outcome.errors, chargers = ?outcome.chargers, rollouts = ?outcome.rollouts, "configuration reload refused in part; the refused parts keep their old values");
        RELOAD_ERROR
    };
    metrics.config_reloads.with_label_values(&[result]).inc();
    outcome
}

/// What a reload needs from the running gateway; cheap to clone, so the SIGHUP task can own one.
#[derive(Clone)]
pub struct Reloader {
    /// The charger registry, when one is configured.
    pub registry: Option<Arc<ChargerRegistry>>,
    /// The codec registry holding the rollout plans.
    pub codecs: Arc<CodecRegistry>,
    /// Metrics registry.
    pub metrics: Metrics,
}

impl Reloader {
    /// Applies `config` (see [`reload`]).
    pub fn reload(&self, config: &Config) -> ReloadOutcome {
        reload(
            config,
            self.registry.as_deref(),
            &self.codecs,
            &self.metrics,
        )
    }

    /// Loads the configuration with `load` and applies it; a file that does not load changes nothing and is
    /// logged and counted as an `error` reload.
    pub fn reload_with(
        &self,
        load: impl Fn() -> Result<Config, ConfigError>,
    ) -> Result<ReloadOutcome, ConfigError> {
        match load() {
            Ok(config) => Ok(self.reload(&config)),
            Err(e) => {
                tracing::error!(code = "reload_failed", error = %e, "configuration reload refused: the file does not load; nothing changed");
                self.metrics
                    .config_reloads
                    .with_label_values(&[RELOAD_ERROR])
                    .inc();
                Err(e)
            }
        }
    }
}

/// The SIGHUP handler, installed when this is built — before the gateway starts, so a SIGHUP during start-up is
/// not the default action (terminate). Hand it to [`reload_on_sighup`].
pub struct HupListener {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl HupListener {
    /// Installs the handler (must run inside a tokio runtime); a failure is logged and reload is then off.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signal = signal(SignalKind::hangup())
                .inspect_err(|e| tracing::warn!(error = %e, "cannot install the SIGHUP handler; configuration reload is off"))
                .ok();
            HupListener { signal }
        }
        #[cfg(not(unix))]
        HupListener {}
    }

    /// The next SIGHUP; pending forever without a handler.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// Reloads on every SIGHUP until `shutdown`; `load` re-reads the file, environment and flags.
pub async fn reload_on_sighup(
    mut hup: HupListener,
    reloader: Reloader,
    load: impl Fn() -> Result<Config, ConfigError>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = hup.next() => {
                tracing::info!("SIGHUP: reloading the configuration");
                let _ = reloader.reload_with(&load);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chargegate_codec::plugin::{CodecConnection, Detect, LivenessPolicy, VendorCodec};
    use chargegate_codec::ykc::plugin::{YkcCodec, YkcSettings};

    use super::*;
    use crate::app::SystemLocalClock;

    /// YKC registered under another version label, so a rollout has two versions to choose from.
    struct Versioned(&'static str, YkcCodec);

    impl VendorCodec for Versioned {
        fn name(&self) -> &'static str {
            self.1.name()
        }
        fn version(&self) -> &'static str {
            self.0
        }
        fn protocol(&self) -> &'static str {
            self.1.protocol()
        }
        fn detect(&self, first_bytes: &[u8]) -> Detect {
            self.1.detect(first_bytes)
        }
        fn liveness(&self) -> LivenessPolicy {
            self.1.liveness()
        }
        fn connect(&self) -> Box<dyn CodecConnection> {
            self.1.connect()
        }
    }

    fn codecs() -> Arc<CodecRegistry> {
        let r = Arc::new(CodecRegistry::new());
        for v in ["1", "2"] {
            let ykc = YkcCodec::new(YkcSettings::new(Arc::new(SystemLocalClock::default())));
            r.register(Arc::new(Versioned(v, ykc)));
        }
        r
    }

    fn on_candidate(codecs: &CodecRegistry) -> usize {
        (0..1000)
            .filter(|i| {
                let id = format!("3201{i:010}");
                codecs.select("ykc", &id).map(|c| c.version()) == Some("2")
            })
            .count()
    }

    fn config(text: &str) -> Config {
        Config::from_parts(Some(text), &[]).unwrap()
    }

    #[test]
    fn a_reload_to_zero_per_mille_moves_every_charger_back_and_is_counted() {
        let codecs = codecs();
        let metrics = Metrics::new().unwrap();
        let half = config("[rollout.ykc]\nstable = \"1\"\ncandidate = \"2\"\nper_mille = 500\n");
        assert!(reload(&half, None, &codecs, &metrics).is_ok());
        let n = on_candidate(&codecs);
        assert!((400..=600).contains(&n), "{n} of 1000 on the candidate");

        let back = config("[rollout.ykc]\nstable = \"1\"\ncandidate = \"2\"\nper_mille = 0\n");
        assert!(reload(&back, None, &codecs, &metrics).is_ok());
        assert_eq!(on_candidate(&codecs), 0);

        // An unknown version is refused; the plan in force stays.
        let bad = config("[rollout.ykc]\nstable = \"1\"\ncandidate = \"9\"\nper_mille = 1000\n");
        let outcome = reload(&bad, None, &codecs, &metrics);
        assert!(!outcome.is_ok());
        assert_eq!(on_candidate(&codecs), 0);

        // Removing the section clears the plan.
        assert!(reload(&config(""), None, &codecs, &metrics).is_ok());
        assert!(codecs.rollout("ykc").is_none());

        let count = |r: &str| metrics.config_reloads.with_label_values(&[r]).get();
        assert_eq!((count(RELOAD_OK), count(RELOAD_ERROR)), (3, 1));
    }
}
