//! Images end to end: `file://` and URL images (media type from the bytes) reach every vendor
//! in its own block (the mock refuses a body without the documented shape), results show them
//! by digest, and caches and cassettes key on the bytes' SHA-256, never on megabytes of base64;
//! a recorded suite replays offline, URL images included.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use promptdrift_mock::{MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Project, results};

/// The smallest valid 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x56, 0xB5, 0x2A, 0xE5, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A JPEG-signed blob, padded so its base64 is long (a "large" image for key checks).
fn jpeg() -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    b.extend((0..300_000u32).map(|i| (i % 251) as u8));
    b
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Serves `body` as `image/gif` to every GET on 127.0.0.1 until dropped; counts the requests.
struct ImageServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn serve(body: Vec<u8>) -> ImageServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/photos/cat.gif", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { break };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            counter.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: image/gif\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    ImageServer { url, hits }
}

fn gif() -> Vec<u8> {
    let mut b = b"GIF89a".to_vec();
    b.extend([
        0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
    ]);
    b.extend(
        b"!\xF9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    );
    b
}

fn project() -> Project {
    let p = Project::new()
        .env("OPENAI_API_KEY", "sk-test-images")
        .env("ANTHROPIC_API_KEY", "sk-ant-images")
        .env("AWS_BEARER_TOKEN_BEDROCK", "bedrock-images")
        .env("GEMINI_API_KEY", "gemini-images")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.images");
    std::fs::create_dir_all(p.path().join("fixtures/photos")).unwrap();
    std::fs::write(p.path().join("fixtures/photos/dot.png"), PNG).unwrap();
    std::fs::write(p.path().join("fixtures/photos/big.jpg"), jpeg()).unwrap();
    p
}

fn suite(url: &str, image_url: &str) -> String {
    let providers = [
        format!("  - id: openai:gpt-4.1-mini\n    config: {{ base_url: \"{url}/v1\" }}\n"),
        format!("  - id: anthropic:claude-sonnet-4-5\n    config: {{ base_url: \"{url}\" }}\n"),
        format!("  - id: bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0\n    config: {{ endpoint_url: \"{url}\", region: us-east-1 }}\n"),
        format!("  - id: gemini:gemini-2.5-flash\n    config: {{ base_url: \"{url}\" }}\n"),
        format!("  - id: vertex:gemini-2.5-flash\n    config: {{ base_url: \"{url}\", project: p1 }}\n"),
        format!("  - id: ollama:llava\n    config: {{ base_url: \"{url}\" }}\n"),
    ]
    .concat();
    format!(
        r#"providers:
{providers}prompts:
  - label: describe
    messages:
      - role: system
        content: You describe pictures in one word.
      - role: user
        content: "What do these show?"
        images:
          - file://fixtures/photos/dot.png
          - "{{{{ photo if photo[:4] == 'http' else 'file://fixtures/photos/' ~ photo }}}}"
cases:
  - id: local
    vars: {{ photo: big.jpg }}
    assert: [{{ type: contains, value: dot }}]
  - id: remote
    vars: {{ photo: "{image_url}" }}
    assert: [{{ type: contains, value: dot }}]
"#
    )
}

#[test]
fn every_vendor_gets_its_image_blocks_and_keys_use_digests() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("dots")));
    let server = serve(gif());
    let p = project();
    p.file("suites/pictures.yaml", &suite(&mock.url(), &server.url));
    let v = p.run(&["validate", "suites/pictures.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        0,
        "validate downloads nothing"
    );
    let r = p.run(&["run", "suites/pictures.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // One download for every case and provider that shows the URL image.
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);

    let png = b64(PNG);
    let big = b64(&jpeg());
    let gif64 = b64(&gif());
    let bodies: Vec<(Protocol, Value)> = mock
        .requests()
        .into_iter()
        .filter_map(|r| {
            assert!(
                r.rejection.is_none(),
                "{:?} refused: {:?}",
                r.protocol,
                r.rejection
            );
            Some((r.protocol?, r.body_json()?))
        })
        .collect();
    assert_eq!(bodies.len(), 12);
    let of = |p: Protocol, with: &str| {
        bodies
            .iter()
            .find(|(q, b)| *q == p && b.to_string().contains(with))
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("no {p:?} body with that image"))
    };
    // OpenAI: image_url parts with data URLs, images before the text.
    let o = of(Protocol::OpenAiChat, &big);
    assert_eq!(
        o["messages"][1]["content"],
        json!([
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}},
            {"type": "image_url", "image_url": {"url": format!("data:image/jpeg;base64,{big}")}},
            {"type": "text", "text": "What do these show?"}
        ])
    );
    let o = of(Protocol::OpenAiChat, &gif64);
    assert_eq!(
        o["messages"][1]["content"][1]["image_url"]["url"],
        format!("data:image/gif;base64,{gif64}")
    );
    // Anthropic: base64 image blocks.
    let a = of(Protocol::Anthropic, &big);
    assert_eq!(
        a["messages"][0]["content"][0],
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}})
    );
    assert_eq!(
        a["messages"][0]["content"][1]["source"]["media_type"],
        "image/jpeg"
    );
    assert_eq!(
        a["messages"][0]["content"][2],
        json!({"type": "text", "text": "What do these show?"})
    );
    // Bedrock: image{format, source{bytes}}.
    let b = of(Protocol::BedrockConverse, &big);
    assert_eq!(
        b["messages"][0]["content"][1],
        json!({"image": {"format": "jpeg", "source": {"bytes": big}}})
    );
    // Gemini and Vertex: inlineData.
    for proto in [Protocol::Gemini, Protocol::Vertex] {
        let g = of(proto, &gif64);
        assert_eq!(
            g["contents"][0]["parts"][1],
            json!({"inlineData": {"mimeType": "image/gif", "data": gif64}})
        );
    }
    // Ollama: the message's `images`.
    let ol = of(Protocol::OllamaChat, &big);
    assert_eq!(ol["messages"][1]["images"], json!([png, big]));

    // Results show images by digest; no base64 anywhere in the results file.
    let text = p.read("results.json");
    assert!(
        !text.contains(&big[..200]) && !text.contains(&png),
        "base64 in results"
    );
    let doc = results(&p, "results.json");
    let local = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == "local")
        .unwrap();
    let shown = &local["rendered"]["messages"][0]["images"];
    assert_eq!(shown[1]["source"], "file://fixtures/photos/big.jpg");
    assert_eq!(shown[1]["media_type"], "image/jpeg");
    assert_eq!(shown[1]["sha256"], hex(&jpeg()));
    assert_eq!(shown[1]["bytes"], jpeg().len());

    // A second live run answers from the cache: the key holds the digest, and matches.
    let r = p.run(&["run", "suites/pictures.yaml", "-o", "again.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let again = results(&p, "again.json");
    assert!(
        again["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] == "cache"),
        "{again}"
    );
}

#[test]
fn cassettes_store_digests_and_replay_offline_with_url_images() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("dots")));
    let server = serve(gif());
    let p = project();
    p.file("suites/pictures.yaml", &suite(&mock.url(), &server.url));
    let r = p.run(&[
        "run",
        "suites/pictures.yaml",
        "--mode",
        "record",
        "-o",
        "rec.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let cassette = p.read("fixtures/cassettes/pictures/openai-gpt-4.1-mini.yaml");
    let big = b64(&jpeg());
    assert!(
        !cassette.contains(&big[..200]),
        "the cassette holds the image's base64"
    );
    assert!(
        cassette.contains(&format!("data:image/jpeg;sha256:{}", hex(&jpeg()))),
        "{cassette}"
    );
    let anthropic = p.read("fixtures/cassettes/pictures/anthropic-claude-sonnet-4-5.yaml");
    assert!(
        anthropic.contains(&format!("sha256:{}", hex(PNG))),
        "{anthropic}"
    );
    assert!(
        cassette.len() < 20_000,
        "cassette is {} bytes",
        cassette.len()
    );
    // The URL image was kept beside the cassettes for replay.
    let stored = std::fs::read_dir(p.path().join("fixtures/cassettes/pictures/images"))
        .unwrap()
        .count();
    assert_eq!(stored, 1);

    // Replay: no network (the mock and the image server are gone), no keys.
    drop(mock);
    let hits = server.hits.load(Ordering::SeqCst);
    let offline = Project::new();
    for rel in [
        "suites/pictures.yaml",
        "fixtures/photos/dot.png",
        "fixtures/photos/big.jpg",
    ] {
        let to = offline.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(p.path().join(rel), to).unwrap();
    }
    copy_dir(
        &p.path().join("fixtures/cassettes"),
        &offline.path().join("fixtures/cassettes"),
    );
    let r = offline.run(&[
        "run",
        "suites/pictures.yaml",
        "--mode",
        "replay",
        "-o",
        "replay.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        hits,
        "replay downloaded an image"
    );
    let doc = results(&offline, "replay.json");
    assert!(
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] == "cassette"),
        "{doc}"
    );
    // Another picture is another key: a clear miss, not a silent answer.
    std::fs::write(offline.path().join("fixtures/photos/dot.png"), gif()).unwrap();
    let r = offline.run(&[
        "run",
        "suites/pictures.yaml",
        "--mode",
        "replay",
        "-o",
        "miss.json",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stdout.contains("no recording for case"), "{}", r.all());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn bad_images_are_errors_before_any_request() {
    let p = project();
    p.file("fixtures/photos/notes.txt", "not a picture");
    p.file(
        "suites/bad.yaml",
        r#"providers: [openai:gpt-4.1-mini]
prompts:
  - label: p
    messages:
      - role: user
        content: What is this?
        images: ["file://fixtures/photos/{{ photo }}", "ftp://example.com/x.png"]
      - role: assistant
        content: A cat.
        images: [file://fixtures/photos/dot.png]
cases:
  - id: text-file
    vars: { photo: notes.txt }
"#,
    );
    let r = p.run(&["validate", "suites/bad.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    for needle in [
        "image `ftp://example.com/x.png` is neither `file://path` nor an http(s) URL",
        "a `assistant` message cannot hold images",
    ] {
        assert!(
            r.stderr.contains(needle),
            "missing {needle:?}:\n{}",
            r.all()
        );
    }
    // Once the shape is right, the planner reads the files.
    p.file(
        "suites/bad.yaml",
        r#"providers: [openai:gpt-4.1-mini]
prompts:
  - label: p
    messages:
      - { role: user, content: What is this?, images: ["file://fixtures/photos/{{ photo }}"] }
cases:
  - id: text-file
    vars: { photo: notes.txt }
  - id: missing
    vars: { photo: none.png }
"#,
    );
    let r = p.run(&["validate", "suites/bad.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    for needle in [
        "case `text-file`: prompt `p`: `file://fixtures/photos/notes.txt` is not a PNG, JPEG, GIF or WebP image",
        "case `missing`: prompt `p`: image file `fixtures/photos/none.png` not found",
    ] {
        assert!(
            r.stderr.contains(needle),
            "missing {needle:?}:\n{}",
            r.all()
        );
    }
}
