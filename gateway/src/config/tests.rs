use super::*;

const EXAMPLE: &str = include_str!("../../chargegate.example.toml");

#[test]
fn no_file_gives_the_briefs_default_listeners() {
    let c = Config::from_parts(None, &[]).unwrap();
    let binds: Vec<_> = c
        .listeners
        .resolved()
        .into_iter()
        .map(|l| (l.name, l.bind.to_string(), l.codec))
        .collect();
    assert_eq!(
        binds,
        vec![
            ("ykc".into(), "0.0.0.0:8768".into(), "ykc".into()),
            ("ocpp_tcp".into(), "0.0.0.0:8769".into(), "ocpp-tcp".into()),
            (
                "gbt27930_can".into(),
                "0.0.0.0:8770".into(),
                "gbt27930-can".into()
            ),
            ("http".into(), "0.0.0.0:8080".into(), "http".into()),
        ]
    );
    assert_eq!(c.limits.high_water_mark, 128 * 1024);
    assert_eq!(c.limits.low_water_mark, 8 * 1024);
    assert_eq!(c.limits.auth_deadline_secs, 10);
    assert_eq!(c.listeners.ykc.backlog, 4096);
    assert_eq!(c.mqtt.embedded_bind.to_string(), "127.0.0.1:1883");
}

#[test]
fn the_example_file_passes_check_config() {
    let c = check_str(EXAMPLE).unwrap();
    assert_eq!(c.listeners.ykc.backlog, 4096);
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let text = "instance = \"a\"\n\n[listeners.ykc]\nbacklog = 10\nbaclog = 11\n";
    let err = check_str(text).unwrap_err();
    assert_eq!(err.kind(), "syntax");
    assert_eq!(err.key(), Some("listeners.ykc.baclog"));
    assert_eq!(err.line(), Some(5));
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn wrong_type_is_named_with_its_line() {
    let text = "[limits]\nauth_deadline_secs = 10\nhigh_water_mark = \"lots\"\n";
    let err = check_str(text).unwrap_err();
    assert_eq!(err.key(), Some("limits.high_water_mark"));
    assert_eq!(err.line(), Some(3));
}

#[test]
fn low_water_mark_above_high_is_named_with_its_line() {
    let text = "[limits]\nhigh_water_mark = 1000\nlow_water_mark = 2000\n";
    let err = check_str(text).unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert_eq!(err.key(), Some("limits.low_water_mark"));
    assert_eq!(err.line(), Some(3));
}

#[test]
fn bad_cidr_is_named_with_its_line() {
    let text = "[listeners.ocpp_tcp]\n\ndeny = [\"10.0.0.0/8\", \"10.0.0.300/8\"]\n";
    let err = check_str(text).unwrap_err();
    assert_eq!(err.key(), Some("listeners.ocpp_tcp.deny.1"));
    assert_eq!(err.line(), Some(3));
}

#[test]
fn two_listeners_on_one_port_collide() {
    let text = "[listeners.ocpp_tcp]\nbind = \"0.0.0.0:8768\"\n";
    let err = check_str(text).unwrap_err();
    assert_eq!(err.key(), Some("listeners.ocpp_tcp.bind"));
    assert_eq!(err.line(), Some(2));
}

#[test]
fn env_variables_reach_nested_keys() {
    let env = vec![
        (
            "CHARGEGATE_LIMITS__HIGH_WATER_MARK".to_owned(),
            "262144".to_owned(),
        ),
        (
            "CHARGEGATE_LISTENERS__YKC__BIND".to_owned(),
            "127.0.0.1:9000".to_owned(),
        ),
        ("CHARGEGATE_WORKERS".to_owned(), "3".to_owned()), // an explicit flag's variable, not generic
        ("OTHER__X".to_owned(), "1".to_owned()),
    ];
    let o = env_overrides(env).unwrap();
    let c = Config::from_parts(None, &o).unwrap();
    assert_eq!(c.limits.high_water_mark, 262_144);
    assert_eq!(c.listeners.ykc.bind.unwrap().to_string(), "127.0.0.1:9000");
    assert_eq!(c.workers, 0);
}

#[test]
fn set_wins_over_file_and_env_and_flags() {
    let args = ServeArgs {
        workers: Some(2),
        set: vec![
            "workers=5".into(),
            "listeners.ykc.allow=[\"10.0.0.0/8\"]".into(),
        ],
        ..ServeArgs::default()
    };
    let env = vec![("CHARGEGATE_WORKERS__X".to_owned(), "1".to_owned())];
    let o = args.overrides(Vec::new()).unwrap();
    let c = Config::from_parts(Some("workers = 1\n"), &o).unwrap();
    assert_eq!(c.workers, 5);
    assert_eq!(c.listeners.ykc.allow.len(), 1);
    assert!(args.overrides(env).is_ok());
}

#[test]
fn a_bad_override_is_reported() {
    let o = vec![Override::parse_set("limits.high_water_mark=lots").unwrap()];
    let err = Config::from_parts(None, &o).unwrap_err();
    assert_eq!(err.kind(), "override");
    assert!(Override::parse_set("no-equals-sign").is_err());
}

#[test]
fn tls_on_the_http_listener_is_refused_rather_than_ignored() {
    let text = "[listeners.http.tls]\ncert = \"a.pem\"\nkey = \"a.key\"\n";
    let err = check_str(text).unwrap_err();
    assert_eq!(err.key(), Some("listeners.http.tls"));
    assert_eq!(err.line(), Some(1));
}

#[test]
fn reuse_port_flag_sets_every_listener() {
    let args = ServeArgs {
        reuse_port: true,
        ..ServeArgs::default()
    };
    let overrides = args.overrides(Vec::new()).unwrap();
    let config = Config::load(None, &overrides).unwrap();
    assert!(config.listeners.ykc.reuse_port);
    assert!(config.listeners.ocpp_tcp.reuse_port);
    assert!(config.listeners.gbt27930_can.reuse_port);
    assert!(config.listeners.http.reuse_port);
    let off = ServeArgs::default().overrides(Vec::new()).unwrap();
    assert!(!Config::load(None, &off).unwrap().listeners.ykc.reuse_port);
}
