use super::*;

/// The review's finding: a refusal for an unknown 60 kB key id stored it twice.
/// Such an id is refused before any lookup or write, and its error does not echo it.
#[test]
fn a_huge_key_id_is_refused_before_it_is_stored_or_echoed() {
    let huge = "k".repeat(60_000);
    match key_ref(&huge) {
        Err(ServiceError::BadRequest(m)) => {
            assert!(m.len() < 200, "{m}");
            assert!(m.contains("60000 bytes"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    for bad in ["", "a b", "k\n", "caf\u{e9}", &"n".repeat(MAX_KEY_REF + 1)] {
        assert!(key_ref(bad).is_err(), "{bad:?}");
    }
    for ok in [
        "payments-eu",
        "team/app_1.2",
        "0f8e2c8a-4d61-4a4b-9d0c-6c3a7e1f2b3d",
    ] {
        assert_eq!(key_ref(ok).ok(), Some(ok));
    }
    assert!(key_ref(&"n".repeat(MAX_KEY_REF)).is_ok());
    match check_name(&huge) {
        Err(ServiceError::BadRequest(m)) => assert!(m.len() < 300, "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn logged_reasons_are_bounded_on_a_character_boundary() {
    assert_eq!(bounded("short", 10), "short");
    let long = "\u{e9}".repeat(1_000);
    let cut = bounded(&long, MAX_REASON);
    assert!(
        cut.len() <= MAX_REASON && cut.ends_with("..."),
        "{}",
        cut.len()
    );
    assert_eq!(bounded("abcdef", 5), "ab...");
}

/// The review's finding: `{}` through the API meant "any trusted node".
#[test]
fn an_empty_key_policy_is_refused_at_create() {
    let now = 1_000;
    match check_new_policy(&KeyPolicy::default(), now) {
        Err(ServiceError::BadRequest(m)) => {
            assert!(m.contains("does not say who may receive the key"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert!(check_new_policy(&KeyPolicy::any_trusted_node(), now).is_ok());
    let past = KeyPolicy {
        expires_at: Some(now),
        ..KeyPolicy::any_trusted_node()
    };
    assert!(matches!(
        check_new_policy(&past, now),
        Err(ServiceError::BadRequest(m)) if m.contains("in the past")
    ));
    let bad_tag = KeyPolicy {
        asset_tags: [("re gion".to_string(), "EU".to_string())].into(),
        ..KeyPolicy::default()
    };
    assert!(check_new_policy(&bad_tag, now).is_err());
}
