use super::*;
use serde_json::json;

#[test]
fn date_times_need_the_rfc_3339_shape_but_a_missing_zone_is_tolerated() {
    use super::format::is_date_time;
    for ok in [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.123+02:00",
        "2024-05-01T12:00:00",
    ] {
        assert!(is_date_time(ok), "{ok}");
    }
    for bad in [
        "2024-13-01T12:00:00Z",
        "yesterday",
        "2024-05-01T12:00:00+0200",
        "2024-05-01",
    ] {
        assert!(!is_date_time(bad), "{bad}");
    }
}

#[test]
fn violations_name_the_keyword_and_the_json_pointer() {
    let schema = CompiledSchema::compile(
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","additionalProperties":false,
            "properties":{"a":{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer","maximum":5}}}}}}"#,
    )
    .unwrap();
    let err = validate(&schema, &json!({"a":[{"n":1},{"n":9}]})).unwrap_err();
    assert_eq!(
        (err.keyword, err.pointer.as_str()),
        (Keyword::Maximum, "/a/1/n")
    );
    let err = validate(&schema, &json!({"a":[{"n":1.0}]})).unwrap_err();
    assert_eq!(
        err.keyword,
        Keyword::Type,
        "draft-04: 1.0 is not an integer"
    );
}
