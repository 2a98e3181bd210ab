//! `memory_limit`: one memory pool for every query of the gateway. Under a limit smaller than what a many-group
//! semantic query holds, the aggregation spills to files under `<data_dir>/spill` (EXPLAIN ANALYZE shows it) and the
//! answer equals the raw tables'; under a limit nothing can fit in, the query fails with SQLSTATE 53200 naming the
//! limit, and the connection goes on.

mod common;

/// One row per line item or so (60k groups at the test scale): what makes an aggregation's hash table large.
const MANY_GROUPS: &str = "SELECT order_date, ship_date, nation, ship_mode, part_type, MEASURE(revenue) AS revenue, \
     MEASURE(line_items) AS line_items FROM sales GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";

const MANY_GROUPS_REFERENCE: &str = "SELECT o_orderdate, l_shipdate, n_name, l_shipmode, p_type, \
     SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM lineitem \
     JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
     JOIN nation ON c_nationkey = n_nationkey JOIN part ON l_partkey = p_partkey \
     GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";

fn gateway_with_limit(limit: &str) -> (std::net::SocketAddr, tempfile::TempDir) {
    // The data is shared; the spill directory is this gateway's own.
    let data = tempfile::tempdir().unwrap();
    let mut config = semgate::Config::demo(common::data_dir(), common::TEST_SCALE);
    config.memory_limit = Some(semgate::config::memory_setting(limit).unwrap());
    config.data_dir = data.path().to_path_buf();
    std::os::unix::fs::symlink(
        common::data_dir().join(format!("tpch-sf{}", common::TEST_SCALE)),
        data.path().join(format!("tpch-sf{}", common::TEST_SCALE)),
    )
    .unwrap();
    (common::spawn_gateway(config).pg_addr, data)
}

async fn connect(addr: std::net::SocketAddr) -> tokio_postgres::Client {
    let client = common::connect_to(addr).await;
    client.simple_query("SET semgate.cache = off").await.unwrap();
    client
}

/// How many times the plan's operators spilled, from EXPLAIN ANALYZE's `spill_count=` metrics.
fn spills(analyzed: &str) -> u64 {
    analyzed
        .match_indices("spill_count=")
        .filter_map(|(at, key)| {
            let digits: String = analyzed[at + key.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u64>().ok()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_the_limit_spills_and_answers_right() {
    let expected = common::reference_rows(&common::reference().await, MANY_GROUPS_REFERENCE).await;
    assert!(expected.len() > 50_000, "{} groups", expected.len());
    // Without a limit the query peaks at 64-96 MB at the test scale on 2 cores. DataFusion spills only when each
    // operator's fair share still holds a batch to sort, so the window where it spills rather than fails moves with
    // the number of partitions (cores): the limits are tried in turn, and one of them must spill and answer right
    // while every one either does that or fails cleanly with 53200.
    let mut spilled = Vec::new();
    for limit in ["48MB", "40MB", "64MB", "32MB", "80MB", "128MB", "192MB", "256MB"] {
        let (addr, data) = gateway_with_limit(limit);
        let client = connect(addr).await;
        match client.simple_query(MANY_GROUPS).await {
            Ok(messages) => {
                common::assert_same(MANY_GROUPS, &common::message_rows(messages), &expected);
                let analyzed = format!(
                    "{:?}",
                    common::rows(&client, &format!("EXPLAIN ANALYZE {MANY_GROUPS}")).await
                );
                if spills(&analyzed) > 0 {
                    assert!(data.path().join("spill").is_dir());
                    spilled.push(limit);
                    break;
                }
            }
            Err(error) => {
                let code = error.as_db_error().map(|db| db.code().code().to_string());
                assert_eq!(code.as_deref(), Some("53200"), "{error:?}");
            }
        }
    }
    assert!(!spilled.is_empty(), "no limit made the query spill and answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_cannot_fit_fails_with_53200_and_the_connection_goes_on() {
    let (addr, _data) = gateway_with_limit("16kB");
    let client = connect(addr).await;
    let error = client.simple_query(MANY_GROUPS).await.unwrap_err();
    let db = error.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "53200", "{db:?}");
    assert!(db.message().contains("raise memory_limit"), "{}", db.message());
    assert_eq!(common::rows(&client, "SELECT 1").await, vec![vec!["1".to_string()]]);
}
