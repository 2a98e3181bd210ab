//! The direction of the layers, enforced: only the wire layer (`src/protocol/`) may name the wire crates. Anything
//! else that did would be a second place where a wire's behaviour lives, and a rule written in the core could be
//! bypassed there.

use std::path::{Path, PathBuf};

/// The crates that speak a wire protocol.
const WIRE_CRATES: [&str; 5] = ["pgwire", "tonic", "arrow_flight", "prost", "axum"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Whether `line` names `krate` as a path root (`pgwire::…`, `use tonic::…`, `::prost::…`), outside comments.
fn names_crate(line: &str, krate: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(&format!("{krate}::")).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn only_the_wire_layer_names_wire_crates() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wire = src.join("protocol");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "the source tree was not found: {files:?}");
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&wire)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            for krate in WIRE_CRATES {
                if names_crate(line, krate) {
                    offences.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "only src/protocol/ may use the wire crates; move this into the wire layer or the core:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_sees_what_it_looks_for() {
    assert!(names_crate("use pgwire::api::Type;", "pgwire"));
    assert!(names_crate("    let s = tonic::Status::ok(\"\");", "tonic"));
    assert!(!names_crate("// pgwire::tokio serves it", "pgwire"));
    assert!(!names_crate("use my_pgwire::x;", "pgwire"));
}
