//! Topic names: one place that knows `{p}/{charger}/up/{kind}`, `{p}/{charger}/presence`, `{p}/{charger}/down`,
//! `{p}/{charger}/reply` and `{p}/_dead/{charger}`, and the EMQX OCPP-gateway names (`ocpp/cp/{id}`,
//! `ocpp/cp/{id}/Reply`, `ocpp/cs/{id}`).

use crate::config::TopicLayout;

/// The segment under the prefix that holds dead letters (not a valid charger id: chargers never start with `_`).
pub const DEAD_SEGMENT: &str = "_dead";
/// EMQX's OCPP gateway mount point.
pub const EMQX_MOUNT: &str = "ocpp";

/// Topic builder and parser for one prefix and layout.
#[derive(Debug, Clone)]
pub struct Topics {
    prefix: String,
    layout: TopicLayout,
}

impl Topics {
    /// Topics under `prefix` (trailing slashes are ignored) in `layout`.
    pub fn new(prefix: &str, layout: TopicLayout) -> Self {
        Topics {
            prefix: prefix.trim_end_matches('/').to_owned(),
            layout,
        }
    }

    /// The layout.
    pub fn layout(&self) -> TopicLayout {
        self.layout
    }

    /// `{p}/{charger}/up/{kind}`: a normalized event.
    pub fn up(&self, charger: &str, kind: &str) -> String {
        format!("{}/{charger}/up/{kind}", self.prefix)
    }

    /// `{p}/{charger}/presence`: retained online/offline.
    pub fn presence(&self, charger: &str) -> String {
        format!("{}/{charger}/presence", self.prefix)
    }

    /// `{p}/{charger}/reply`: command results.
    pub fn reply(&self, charger: &str) -> String {
        format!("{}/{charger}/reply", self.prefix)
    }

    /// `{p}/_dead/{charger}`: frames we could not accept.
    pub fn dead(&self, charger: &str) -> String {
        format!("{}/{DEAD_SEGMENT}/{charger}", self.prefix)
    }

    /// The filter every instance subscribes to for presence (to see takeovers by other instances).
    pub fn presence_filter(&self) -> String {
        format!("{}/+/presence", self.prefix)
    }

    /// The filter for commands: `{p}/+/down` (in both layouts: non-OCPP chargers keep it in the EMQX layout).
    pub fn down_filter(&self) -> String {
        format!("{}/+/down", self.prefix)
    }

    /// `ocpp/cs/+`: OCPP CALLs for chargers in the EMQX layout; `None` in the chargegate layout.
    pub fn emqx_down_filter(&self) -> Option<String> {
        (self.layout == TopicLayout::EmqxOcpp).then(|| format!("{EMQX_MOUNT}/cs/+"))
    }

    /// `ocpp/cp/{id}`: uplink CALL and CALLERROR in the EMQX layout.
    pub fn emqx_up(&self, charger: &str) -> String {
        format!("{EMQX_MOUNT}/cp/{charger}")
    }

    /// `ocpp/cp/{id}/Reply`: uplink CALLRESULT in the EMQX layout.
    pub fn emqx_reply(&self, charger: &str) -> String {
        format!("{EMQX_MOUNT}/cp/{charger}/Reply")
    }

    /// The charger a `{p}/{charger}/down` topic addresses, if `topic` is one.
    pub fn down_charger<'a>(&self, topic: &'a str) -> Option<&'a str> {
        let charger = topic
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('/')?
            .strip_suffix("/down")?;
        valid_segment(charger).then_some(charger)
    }

    /// The charger an `ocpp/cs/{id}` topic addresses, if `topic` is one and the layout is EMQX's.
    pub fn emqx_down_charger<'a>(&self, topic: &'a str) -> Option<&'a str> {
        if self.layout != TopicLayout::EmqxOcpp {
            return None;
        }
        let charger = topic.strip_prefix(EMQX_MOUNT)?.strip_prefix("/cs/")?;
        valid_segment(charger).then_some(charger)
    }

    /// The charger a presence topic names, if `topic` is one.
    pub fn presence_charger<'a>(&self, topic: &'a str) -> Option<&'a str> {
        let charger = topic
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('/')?
            .strip_suffix("/presence")?;
        valid_segment(charger).then_some(charger)
    }
}

/// One topic level: not empty, no `/`, no wildcard.
fn valid_segment(s: &str) -> bool {
    !s.is_empty() && !s.contains(['/', '+', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chargegate_layout_builds_and_parses_the_brief_topics() {
        let t = Topics::new("cg/", TopicLayout::Chargegate);
        assert_eq!(t.up("P1", "meter"), "cg/P1/up/meter");
        assert_eq!(t.presence("P1"), "cg/P1/presence");
        assert_eq!(t.reply("P1"), "cg/P1/reply");
        assert_eq!(t.dead("P1"), "cg/_dead/P1");
        assert_eq!(t.down_filter(), "cg/+/down");
        assert_eq!(t.emqx_down_filter(), None);
        assert_eq!(t.emqx_down_charger("ocpp/cs/P1"), None);
        assert_eq!(t.down_charger("cg/P1/down"), Some("P1"));
        assert_eq!(t.down_charger("cg/P1/x/down"), None);
        assert_eq!(t.down_charger("other/P1/down"), None);
        assert_eq!(t.presence_charger("cg/P1/presence"), Some("P1"));
    }

    #[test]
    fn emqx_layout_uses_the_ocpp_mount_point() {
        let t = Topics::new("cg", TopicLayout::EmqxOcpp);
        assert_eq!(t.emqx_up("CP1"), "ocpp/cp/CP1");
        assert_eq!(t.emqx_reply("CP1"), "ocpp/cp/CP1/Reply");
        assert_eq!(t.emqx_down_filter().as_deref(), Some("ocpp/cs/+"));
        assert_eq!(t.emqx_down_charger("ocpp/cs/CP1"), Some("CP1"));
        assert_eq!(t.emqx_down_charger("ocpp/cs/"), None);
        assert_eq!(t.emqx_down_charger("ocpp/cs/a/b"), None);
        // Non-OCPP chargers keep their command topic.
        assert_eq!(t.down_charger("cg/Y1/down"), Some("Y1"));
    }
}
