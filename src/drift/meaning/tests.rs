use super::*;

fn reasons(a: &str, b: &str) -> Vec<String> {
    compare(a, b)
        .signals
        .into_iter()
        .map(|s| s.reason)
        .collect()
}

fn first(a: &str, b: &str) -> (bool, String) {
    let m = compare(a, b);
    assert!(!m.format_only, "{a:?} vs {b:?} called format-only");
    let s = m.signals.first().expect("a signal").clone();
    (s.hard, s.reason)
}

#[test]
fn format_only_changes_are_equivalent() {
    for (a, b) in [
        (
            "Yes, the jacket is waterproof.",
            "yes the jacket is waterproof",
        ),
        ("The jacket is **waterproof**!", "The jacket is waterproof."),
        ("It's 1,000 km.", "It is 1000 km"),
        ("30.0 days", "30 days"),
        ("You can't return it.", "You cannot return it"),
        ("You can not return it", "You can\u{2019}t return it"),
        ("- flour\n- sugar\n- eggs", "1. flour\n2. sugar\n3. eggs"),
        ("## Paris\n\n> is the capital", "Paris is the capital"),
        ("three days", "3 days"),
        (
            r#"{"a": 1, "b": [true, "x"]}"#,
            "```json\n{\"b\": [true, \"x\"], \"a\": 1.0}\n```",
        ),
        ("R&D", "R and D"),
        ("Line one\n\n\nline two", "Line one line two"),
    ] {
        let m = compare(a, b);
        assert!(m.format_only, "{a:?} vs {b:?}: {:?}", m.signals);
    }
}

#[test]
fn the_issue_example_is_a_flipped_answer() {
    let r = reasons(
        "Yes, the jacket is waterproof",
        "No, the jacket is not waterproof",
    );
    assert_eq!(
        r,
        [
            "yes/no flipped: Yes → No",
            "negation added: 'not waterproof'",
            "words changed: 'Yes' → 'No'; added 'not'"
        ]
    );
}

#[test]
fn hard_signals_are_named() {
    let cases = [
        (
            "Refunds within 30 days.",
            "Refunds within 14 days.",
            "number 30 → 14",
        ),
        (
            "Alice hit Bob.",
            "Bob hit Alice.",
            "roles swapped: 'Alice … Bob' → 'Bob … Alice'",
        ),
        (
            "Alice signed the lease.",
            "Bob signed the lease.",
            "names changed: Alice → Bob",
        ),
        (
            "The medication causes drowsiness.",
            "The medication may cause drowsiness.",
            "hedging added: 'may'",
        ),
        (
            "Ship it on Monday.",
            "Ship it on Tuesday.",
            "date Monday → Tuesday",
        ),
        (
            "The trip is 5 miles.",
            "The trip is 5 km.",
            "unit miles → km",
        ),
        (
            "The flight is cheap.",
            "The flight is expensive.",
            "antonym: 'cheap' → 'expensive'",
        ),
        (
            "A man in a red shirt.",
            "A man in a blue shirt.",
            "colour changed: 'red' → 'blue'",
        ),
        (
            "All items can be returned.",
            "Some items can be returned.",
            "quantity changed: 'All' → 'Some'",
        ),
        (
            "The area is safe.",
            "The area is unsafe.",
            "negation added: 'safe' → 'unsafe'",
        ),
        (
            "Here is the answer: 4.",
            "I'm sorry, but I can't help with that.",
            "refusal added: \"I'm sorry, but I can't\"",
        ),
        (
            "1. Preheat the oven\n2. Mix the flour\n3. Bake",
            "1. Preheat the oven\n2. Bake",
            "list item dropped: 'Mix the flour' (3 items → 2)",
        ),
        (
            "1. Preheat the oven\n2. Mix the flour",
            "1. Mix the flour\n2. Preheat the oven",
            "list items reordered: item 1 was 'Preheat the oven'",
        ),
        (
            "Flights from Boston to Denver.",
            "Flights from Denver to Boston.",
            "roles swapped: 'Boston … Denver' → 'Denver … Boston'",
        ),
        (
            r#"{"price": 10}"#,
            r#"{"price": 12}"#,
            "JSON value $.price 10 → 12",
        ),
        (
            r#"{"ok": "The item is in stock."}"#,
            r#"{"ok": "The item is not in stock."}"#,
            "$.ok: negation added: 'not in stock'",
        ),
        (
            "The box is red, not blue.",
            "The box is blue, not red.",
            "negation moved: 'not blue' → 'not red'",
        ),
    ];
    for (a, b, want) in cases {
        let (hard, reason) = first(a, b);
        assert_eq!(reason, want, "{a:?} vs {b:?}: {:?}", reasons(a, b));
        assert!(hard, "{a:?} vs {b:?}: {reason} should be hard");
    }
}

#[test]
fn rewordings_are_changed_but_soft() {
    for (a, b) in [
        (
            "Our refund window is 30 days.",
            "The refund window is 30 days.",
        ),
        ("You can return the item.", "You may return the item."),
        (
            "If it rains, bring an umbrella.",
            "Bring an umbrella if it rains.",
        ),
        ("The dog chased the cat.", "The cat was chased by the dog."),
        (
            "Items can be returned within 30 days.",
            "Returns are accepted within 30 days.",
        ),
    ] {
        let m = compare(a, b);
        assert!(!m.format_only, "{a:?} vs {b:?}");
        assert!(!m.has_hard(), "{a:?} vs {b:?}: {:?}", m.signals);
        assert!(!m.signals.is_empty());
    }
}

#[test]
fn a_word_diff_always_names_the_edit() {
    let r = reasons("The sky is clear today.", "The sky is overcast today.");
    assert_eq!(r.last().unwrap(), "words changed: 'clear' → 'overcast'");
}

#[test]
fn huge_answers_are_bounded() {
    let a: String = (0..60_000).map(|i| format!("w{} ", i % 997)).collect();
    let b: String = (0..60_000).map(|i| format!("v{} ", i % 991)).collect();
    let t = std::time::Instant::now();
    let m = compare(&a, &b);
    assert!(!m.format_only);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn may_inside_a_sentence_is_the_month() {
    let m = compare("Payment is due in March.", "Payment is due in May.");
    let r: Vec<&str> = m.signals.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(r[0], "date March → May", "{r:?}");
    assert!(!r.iter().any(|s| s.starts_with("hedging")), "{r:?}");
    // Opening a sentence, or lowercase, it is the modal.
    assert_eq!(
        first("The store is open.", "The store may be open.").1,
        "hedging added: 'may'"
    );
    assert!(
        reasons("May I help?", "Can I help?")
            .iter()
            .all(|s| !s.starts_with("date")),
        "{:?}",
        reasons("May I help?", "Can I help?")
    );
}

#[test]
fn addresses_are_hard() {
    let (hard, reason) = first("Send it to alice@example.com", "Send it to bob@example.com");
    assert!(hard);
    assert_eq!(reason, "address alice@example.com → bob@example.com");
    let (hard, reason) = first(
        "Visit https://example.com/a.",
        "Visit https://example.com/b.",
    );
    assert!(hard);
    assert_eq!(
        reason,
        "address https://example.com/a → https://example.com/b"
    );
    assert_eq!(
        first("Mail us.", "Mail us at help@example.com.").1,
        "address added: help@example.com"
    );
    // Host case and a trailing slash are not a change of address.
    assert!(compare("See https://Example.com/", "see https://example.com").format_only);
    let r = reasons(
        "Write to help@Example.com today",
        "Write to help@example.com now",
    );
    assert!(!r.iter().any(|s| s.starts_with("address")), "{r:?}");
}

#[test]
fn list_items_are_compared_in_canonical_form() {
    let r = reasons(
        "You need flour, three eggs and sugar. It's easy.",
        "You need flour, 3 eggs and sugar. It is simple.",
    );
    assert!(!r.iter().any(|s| s.starts_with("list")), "{r:?}");
    let r = reasons(
        "You need flour, three eggs and sugar.",
        "You need flour, four eggs and sugar.",
    );
    assert!(r.iter().any(|s| s.starts_with("number")), "{r:?}");
}
