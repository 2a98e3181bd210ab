//! Mutated SQL, seeded so every run is the same: the router and the compatibility rewrites never panic, and over
//! the wire every statement answers or fails with a SQLSTATE while the connection stays usable.
//!
//! The corpus is the SQL the project already knows clients send (the replayed BI-tool queries and the .slt files);
//! each input is one of them cut, spliced, repeated or sprinkled with SQL's special characters.

mod common;

use std::path::Path;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// Inputs for the in-process run (thousands per second) and for the run over the wire (each one planned).
const IN_PROCESS_INPUTS: usize = 20_000;
const WIRE_INPUTS: usize = 1_000;
const SEED: u64 = 0x5e6_9a7e;

/// Characters and words that change how SQL parses.
const SPRINKLES: [&str; 24] = [
    "'",
    "\"",
    "$$",
    "$1",
    "?",
    "(",
    ")",
    ",",
    ";",
    "::",
    "[",
    "]",
    "--",
    "/*",
    "*/",
    "\\",
    "NULL",
    "SELECT",
    " FROM ",
    " WHERE ",
    " GROUP BY ",
    "MEASURE(",
    "é",
    "\u{0}",
];

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut statements = Vec::new();
    for entry in std::fs::read_dir(root.join("clients/replay")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sql") {
            let text = std::fs::read_to_string(&path).unwrap();
            for chunk in text.split("\n\n") {
                let sql: Vec<&str> = chunk.lines().filter(|l| !l.starts_with("--")).collect();
                if !sql.is_empty() {
                    statements.push(sql.join("\n"));
                }
            }
        }
    }
    for entry in std::fs::read_dir(root.join("slt")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.starts_with("query") || line.starts_with("statement") {
                let sql: Vec<&str> = lines.by_ref().take_while(|l| *l != "----" && !l.is_empty()).collect();
                statements.push(sql.join("\n"));
            }
        }
    }
    assert!(statements.len() > 100, "the corpus is too small: {}", statements.len());
    statements
}

/// One input: a corpus statement changed by one or two random edits, cut at character boundaries.
fn mutate(corpus: &[String], rng: &mut StdRng) -> String {
    let mut text = corpus.choose(rng).unwrap().clone();
    for _ in 0..rng.random_range(1..=2) {
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let a = *boundaries.choose(rng).unwrap();
        let b = *boundaries.choose(rng).unwrap();
        let (from, to) = (a.min(b), a.max(b));
        match rng.random_range(0..5) {
            0 => text.replace_range(from..to, ""),
            1 => text.insert_str(from, SPRINKLES.choose(rng).unwrap()),
            2 => {
                let copy = text[from..to].to_string();
                text.insert_str(to, &copy);
            }
            3 => {
                let other = corpus.choose(rng).unwrap();
                let cut = other.char_indices().map(|(i, _)| i).collect::<Vec<_>>();
                let at = cut.choose(rng).copied().unwrap_or(0);
                text.replace_range(from.., &other[at..]);
            }
            _ => text.truncate(from),
        }
    }
    text
}

#[test]
fn routing_and_rewriting_never_panic() {
    let corpus = corpus();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut panicked = Vec::new();
    for _ in 0..IN_PROCESS_INPUTS {
        let input = mutate(&corpus, &mut rng);
        for style in [
            semgate::router::ParameterStyle::Numbered,
            semgate::router::ParameterStyle::Positional,
        ] {
            let routed = std::panic::catch_unwind(|| {
                let numbered = semgate::router::number_parameters(&input, style).map(|s| s.into_owned());
                numbered.map(|sql| semgate::router::route(&sql).map(|statements| statements.len()))
            });
            if routed.is_err() {
                panicked.push(input.clone());
            }
        }
    }
    println!("fuzz: {IN_PROCESS_INPUTS} mutated statements routed and rewritten in process, twice each");
    assert!(
        panicked.is_empty(),
        "{} inputs panicked, e.g.:\n{}",
        panicked.len(),
        panicked.iter().take(5).cloned().collect::<Vec<_>>().join("\n---\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutated_statement_answers_or_fails_with_a_sqlstate() {
    let corpus = corpus();
    let mut rng = StdRng::seed_from_u64(SEED + 1);
    let client = common::connect().await;
    let (mut answered, mut failed, mut internal) = (0, 0, Vec::new());
    for i in 0..WIRE_INPUTS {
        // A protocol string ends at NUL: no client can send one inside a statement.
        let input = mutate(&corpus, &mut rng).replace('\0', "");
        // tokio-postgres reads no COPY data from a simple query; COPY has its own tests.
        if input.to_lowercase().contains("copy") {
            continue;
        }
        // Bounds what one input may cost (a mutated query can be a cross product; an input may have been a RESET
        // or DISCARD ALL): a timeout is an answer too (57014).
        client.batch_execute("SET statement_timeout = '3s'").await.unwrap();
        // Both protocols: the simple one, and Parse/Describe as drivers prepare.
        let outcome = match i % 2 {
            0 => client.simple_query(&input).await.map(drop),
            _ => client.prepare(&input).await.map(drop),
        };
        match outcome {
            Ok(()) => answered += 1,
            Err(e) => {
                let db = e
                    .as_db_error()
                    .unwrap_or_else(|| panic!("no SQLSTATE (connection lost?) for {input:?}: {e:?}"));
                failed += 1;
                if db.message().starts_with("internal error in semgate") {
                    internal.push(format!("{input:?}: {}", db.message()));
                }
            }
        }
        if i % 50 == 49 {
            assert_eq!(
                common::rows(&client, "SELECT 1").await,
                [["1"]],
                "usable after {input:?}"
            );
        }
    }
    println!("fuzz over the wire: {WIRE_INPUTS} inputs, {answered} answered, {failed} failed with a SQLSTATE");
    assert!(
        internal.is_empty(),
        "statements that panicked:\n{}",
        internal.join("\n")
    );
    assert_eq!(common::rows(&client, "SELECT 1").await, [["1"]]);
}
