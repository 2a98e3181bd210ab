//! The `semgate` binary: `check` on broken and valid models, and `serve --config` on a CSV model, stopped by Ctrl-C.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn semgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_semgate"))
}

#[test]
fn check_reports_every_problem_with_its_location() {
    let output = semgate()
        .args(["check", "--config", "tests/fixtures/broken/semgate.yml"])
        .output()
        .unwrap();
    assert!(!output.status.success(), "a broken model must fail the check");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let file = "tests/fixtures/broken/model.yml";
    let expected = [
        ("10:11", "cyclic join path: orders → customers → orders"),
        ("23:16", "relationship to unknown model `refunds`"),
        ("28:15", "duplicate member `status` in model `orders`"),
        (
            "31:14",
            "cannot use `no_such_column`: No field named no_such_column; columns are: id, customer_id",
        ),
        (
            "34:15",
            "dimension `created_at` is declared `time` but its expression has type Utf8",
        ),
        ("38:14", "measure `amount`: sum needs a numeric expression, got Utf8"),
        ("40:14", "unknown aggregation `median`"),
        ("42:11", "cyclic join path: customers → orders → customers"),
        ("54:12", "source `files` has no table `nope`; it has: customers, orders"),
        (
            "62:17",
            "model `orders` has no relationship `customers_typo`; it has: buyer, customer",
        ),
        (
            "63:17",
            "ambiguous join path from `orders` to `customers`: buyer or customer",
        ),
        ("65:17", "duplicate column `country`"),
        ("67:17", "model `orders` has no measure `total_amountx`"),
        ("69:14", "derived metric `ratio`: No field named missing_measure"),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "one line per problem:\n{stdout}");
    for (line, (position, message)) in lines.iter().zip(expected) {
        let prefix = format!("{file}:{position}: ");
        assert!(
            line.starts_with(&prefix) && line.contains(message),
            "expected `{prefix}…{message}…`, got `{line}`"
        );
    }
}

#[test]
fn check_accepts_valid_models() {
    let shop = semgate()
        .args(["check", "--config", "examples/shop/semgate.yml"])
        .output()
        .unwrap();
    assert!(shop.status.success(), "{}", String::from_utf8_lossy(&shop.stdout));
    assert_eq!(
        String::from_utf8(shop.stdout).unwrap().trim(),
        "ok: 2 views (large_orders, shop_orders)"
    );
    let data_dir = common::data_dir();
    let demo = semgate().args(["check", "--data-dir"]).arg(&data_dir).output().unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stdout));
    assert_eq!(
        String::from_utf8(demo.stdout).unwrap().trim(),
        "ok: 2 views (customers, sales)"
    );
}

#[test]
fn a_worker_without_the_cluster_secret_does_not_start() {
    let worker = semgate()
        .args([
            "worker",
            "--listen",
            "127.0.0.1:0",
            "--demo-scale",
            "0.01",
            "--data-dir",
        ])
        .arg(common::data_dir())
        .env_remove("SEMGATE_CLUSTER_SECRET")
        .output()
        .unwrap();
    assert!(!worker.status.success());
    let error = String::from_utf8_lossy(&worker.stderr);
    assert!(error.contains("SEMGATE_CLUSTER_SECRET is not set"), "{error}");
    // A distributed section whose URL is not one is reported at its line.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("semgate.yml");
    std::fs::write(
        &config,
        "semantic: [model.yml]\ndistributed:\n  workers: [worker-1:50052]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("model.yml"), "views: []\n").unwrap();
    let check = semgate().args(["check", "--config"]).arg(&config).output().unwrap();
    let report = String::from_utf8_lossy(&check.stderr).into_owned() + &String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "{report}");
    assert!(
        report.contains("semgate.yml:3") && report.contains("not a worker URL"),
        "{report}"
    );
}

#[test]
fn check_reports_yaml_errors_with_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("semgate.yml"), "semantic: [model.yml]\n").unwrap();
    std::fs::write(dir.path().join("model.yml"), "models:\n  - name: x\n    colour: red\n").unwrap();
    let output = semgate()
        .arg("check")
        .arg("--config")
        .arg(dir.path().join("semgate.yml"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("model.yml:3:5: ") && stdout.contains("colour"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_a_config_file_and_stops_on_ctrl_c() {
    let (port, mut child) = serve_shop();
    let stderr = child.0.stderr.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("semgate is ready") {
                let _ = ready_tx.send(());
            }
        }
    });
    ready_rx.recv_timeout(Duration::from_secs(60)).expect("gateway starts");

    let url = format!("postgres://owner:owner-secret@127.0.0.1:{port}/shop");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT country, MEASURE(amount), MEASURE(paid_amount), MEASURE(customer_count), \
             MEASURE(order_count) FROM shop_orders GROUP BY country ORDER BY country",
            &[],
        )
        .await
        .unwrap();
    /// country, amount, paid amount, customers, orders
    type ShopRow = (String, Option<f64>, Option<f64>, i64, i64);
    let actual: Vec<ShopRow> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    // From the CSV files by hand: FR has customers 10 and 12 (orders 1, 2, 4, all paid), DE has 11 (order 3,
    // refunded) and 14 (no orders: still a customer), US has 13 (order 5, open).
    assert_eq!(
        actual,
        vec![
            ("DE".into(), Some(5.25), None, 2, 1),
            ("FR".into(), Some(162.5), Some(162.5), 2, 3),
            ("US".into(), Some(10.0), None, 1, 1),
        ]
    );

    // A model over a SQL select: orders 1, 2 and 4 have an amount of at least 20.
    let large = client
        .query_one(
            "SELECT MEASURE(large_amount), MEASURE(large_order_count) FROM large_orders",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((large.get::<_, f64>(0), large.get::<_, i64>(1)), (162.5, 3));

    let started = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "Ctrl-C ends the server cleanly: {status:?}");
    // A hang detector, not a speed test: a clean shutdown takes milliseconds, a stuck one never ends.
    assert!(started.elapsed() < Duration::from_secs(60), "shutdown did not hang");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let (_, mut child) = serve_shop();
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap()).lines();
    assert!(
        stderr
            .by_ref()
            .map_while(Result::ok)
            .any(|line| line.contains("semgate is ready")),
        "gateway starts"
    );
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(child.0.wait().unwrap().success(), "SIGTERM ends the server cleanly");
}

/// `semgate serve` on the shop example at a free port, with stderr piped so callers can wait for readiness.
fn serve_shop() -> (u16, KillOnDrop) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = semgate()
        .args([
            "serve",
            "--config",
            "examples/shop/semgate.yml",
            "--pg-addr",
            &format!("127.0.0.1:{port}"),
            "--flight-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (port, KillOnDrop(child))
}

/// A failing assertion must not leave the server running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A model's access policies are checked like the rest of it: each problem at its place, and a policy reading an
/// attribute no configured user has is a warning (the check still passes).
#[test]
fn check_reports_policy_problems_and_warns_of_unknown_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let shop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    let model = std::fs::read_to_string(shop.join("model.yml")).unwrap();
    let anchor = "      - name: average_order\n        sql: amount / NULLIF(order_count, 0)\n";
    let with_policies = |policies: &str| model.replacen(anchor, &format!("{anchor}    access_policy:\n{policies}"), 1);
    let config = format!(
        "data_dir: {}\nsemantic: [model.yml]\nusers:\n  - {{name: owner, password: x, groups: [admin]}}\n",
        shop.join("data").display()
    );
    std::fs::write(dir.path().join("semgate.yml"), config).unwrap();
    let check = || {
        semgate()
            .arg("check")
            .arg("--config")
            .arg(dir.path().join("semgate.yml"))
            .output()
            .unwrap()
    };

    let broken = with_policies(
        "      - group: admin\n        member_level: {includes: [amount, no_such_member]}\n      \
         - group: sales\n        row_level:\n          filters:\n            \
         - {member: amount, operator: equals, values: ['1']}\n            \
         - {member: status, operator: like, values: [paid]}\n            \
         - {member: created_at, operator: gt, values: [yesterday]}\n            \
         - {member: status, operator: equals, values: ['{ user.region }']}\n",
    );
    assert_ne!(broken, model);
    std::fs::write(dir.path().join("model.yml"), &broken).unwrap();
    let output = check();
    assert!(!output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, message) in [
        (
            "group: admin",
            "member_level names `no_such_member`, which is not a member of the view",
        ),
        ("{member: amount", "`amount` is not a dimension of the view"),
        ("operator: like", "unknown operator `like`"),
        ("values: [yesterday]", "`yesterday` is not a value of `created_at`"),
        ("user.region", "templates name a user attribute"),
    ] {
        let place = format!("model.yml:{}:", line_of(needle));
        assert!(
            stdout.lines().any(|l| l.contains(&place) && l.contains(message)),
            "expected `{place}…{message}` in:\n{stdout}"
        );
    }

    let valid = with_policies(
        "      - group: admin\n      - group: regional\n        row_level:\n          filters:\n            \
         - {member: country, operator: equals, values: ['{ userAttributes.country }']}\n",
    );
    std::fs::write(dir.path().join("model.yml"), &valid).unwrap();
    let output = check();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    let place = format!(
        "model.yml:{}:",
        valid
            .lines()
            .position(|l| l.contains("userAttributes.country"))
            .unwrap()
            + 1
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(&place) && l.contains("warning") && l.contains("`country`")),
        "{stdout}"
    );
}

/// The JSON Schemas editors and CI validate against (deploy/schema/) are what the types generate.
#[test]
fn published_json_schemas_are_generated_from_the_types() {
    for (of, file) in [("config", "config.schema.json"), ("model", "model.schema.json")] {
        let output = semgate().args(["schema", of]).output().unwrap();
        assert!(output.status.success());
        let published = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy/schema")
                .join(file),
        )
        .unwrap();
        assert!(
            String::from_utf8(output.stdout).unwrap() == published,
            "deploy/schema/{file} is stale: run `semgate schema {of} > deploy/schema/{file}`"
        );
    }
}
