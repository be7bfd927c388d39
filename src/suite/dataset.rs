//! Cases from CSV, JSONL and YAML datasets under `fixtures/`.
