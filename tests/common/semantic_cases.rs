//! The semantic SQL suite: semantic SQL sent to semgate, each with independent SQL over the raw TPC-H tables.

/// The TPC-H join from a line to its customer's region, for reference queries.
const LINE_TO_REGION: &str = "lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
     JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey";

const REVENUE: &str = "l_extendedprice * (1 - l_discount)";

/// (what it checks, semantic SQL sent to semgate, independent SQL over the raw tables)
pub fn cases() -> Vec<(&'static str, String, String)> {
    vec![
        (
            "revenue by region (MEASURE)",
            "SELECT region, MEASURE(revenue) FROM sales GROUP BY region ORDER BY region".into(),
            format!("SELECT r_name, SUM({REVENUE}) FROM {LINE_TO_REGION} GROUP BY r_name ORDER BY r_name"),
        ),
        (
            "every sales measure, ungrouped",
            "SELECT MEASURE(revenue), MEASURE(gross_sales), MEASURE(quantity), MEASURE(line_items), MEASURE(order_count), \
             MEASURE(avg_discount), MEASURE(returned_revenue), MEASURE(avg_order_value), MEASURE(customer_count) FROM sales"
                .into(),
            format!(
                "SELECT SUM({REVENUE}), SUM(l_extendedprice), SUM(l_quantity), COUNT(*), COUNT(DISTINCT l_orderkey), \
                 AVG(l_discount), SUM(CASE WHEN l_returnflag = 'R' THEN {REVENUE} END), \
                 SUM({REVENUE}) / COUNT(DISTINCT l_orderkey), (SELECT COUNT(*) FROM customer) AS customers FROM lineitem"
            ),
        ),
        (
            "no fan-out: revenue and customer_count by nation (customers without orders count too)",
            "SELECT nation, MEASURE(revenue), MEASURE(customer_count) FROM sales GROUP BY nation ORDER BY nation".into(),
            format!(
                "SELECT c.n_name, r.rev, c.cnt FROM \
                 (SELECT n_name, COUNT(*) AS cnt FROM customer JOIN nation ON c_nationkey = n_nationkey GROUP BY n_name) c \
                 LEFT JOIN (SELECT n_name AS nn, SUM({REVENUE}) AS rev FROM {LINE_TO_REGION} GROUP BY n_name) r \
                 ON c.n_name = r.nn ORDER BY c.n_name"
            ),
        ),
        (
            "customer_count by a line attribute counts distinct customers having such lines",
            "SELECT ship_mode, MEASURE(customer_count) FROM sales GROUP BY ship_mode ORDER BY ship_mode".into(),
            "SELECT l_shipmode, COUNT(DISTINCT c_custkey) FROM lineitem JOIN orders ON l_orderkey = o_orderkey \
             JOIN customer ON o_custkey = c_custkey GROUP BY l_shipmode ORDER BY l_shipmode"
                .into(),
        ),
        (
            "customers view by market segment",
            "SELECT market_segment, MEASURE(customer_count), MEASURE(total_account_balance), MEASURE(avg_account_balance) \
             FROM customers GROUP BY market_segment ORDER BY market_segment"
                .into(),
            "SELECT c_mktsegment, COUNT(*), SUM(c_acctbal), AVG(c_acctbal) FROM customer GROUP BY c_mktsegment ORDER BY 1".into(),
        ),
        (
            "customers view by region",
            "SELECT region, MEASURE(customer_count) FROM public.customers GROUP BY region ORDER BY region".into(),
            "SELECT r_name, COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey \
             JOIN region ON n_regionkey = r_regionkey GROUP BY r_name ORDER BY r_name"
                .into(),
        ),
        (
            "BI-tool form: SUM/AVG/MAX around measures give the measures themselves",
            "SELECT region, SUM(revenue), SUM(order_count), AVG(avg_order_value), MAX(customer_count) \
             FROM \"public\".\"sales\" GROUP BY region ORDER BY region"
                .into(),
            format!(
                "SELECT r.r_name, r.rev, r.orders, r.rev / r.orders, c.cnt FROM \
                 (SELECT r_name, SUM({REVENUE}) AS rev, COUNT(DISTINCT l_orderkey) AS orders FROM {LINE_TO_REGION} GROUP BY r_name) r \
                 JOIN (SELECT r_name AS rn, COUNT(*) AS cnt FROM customer JOIN nation ON c_nationkey = n_nationkey \
                 JOIN region ON n_regionkey = r_regionkey GROUP BY r_name) c ON r.r_name = c.rn ORDER BY 1"
            ),
        ),
        (
            "implicit aggregation by the selected dimensions",
            "SELECT ship_mode, revenue, line_items FROM sales ORDER BY ship_mode".into(),
            format!("SELECT l_shipmode, SUM({REVENUE}), COUNT(*) FROM lineitem GROUP BY l_shipmode ORDER BY 1"),
        ),
        (
            "date_trunc month with a date range in WHERE",
            "SELECT date_trunc('month', order_date) AS month, MEASURE(revenue) FROM sales \
             WHERE order_date >= '1996-01-01' AND order_date < '1997-01-01' GROUP BY 1 ORDER BY 1"
                .into(),
            format!(
                "SELECT date_trunc('month', o_orderdate), SUM({REVENUE}) FROM lineitem JOIN orders ON l_orderkey = o_orderkey \
                 WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' GROUP BY 1 ORDER BY 1"
            ),
        ),
        (
            "EXTRACT(YEAR) grouping",
            "SELECT EXTRACT(YEAR FROM order_date) AS y, MEASURE(order_count) FROM sales GROUP BY 1 ORDER BY 1".into(),
            "SELECT EXTRACT(YEAR FROM o_orderdate), COUNT(DISTINCT l_orderkey) FROM lineitem JOIN orders ON l_orderkey = o_orderkey \
             GROUP BY 1 ORDER BY 1"
                .into(),
        ),
        (
            "quarter grain and BETWEEN on ship_date",
            "SELECT date_trunc('quarter', ship_date), MEASURE(quantity) FROM sales \
             WHERE ship_date BETWEEN DATE '1995-01-01' AND DATE '1995-12-31' GROUP BY 1 ORDER BY 1"
                .into(),
            "SELECT date_trunc('quarter', l_shipdate), SUM(l_quantity) FROM lineitem \
             WHERE l_shipdate BETWEEN DATE '1995-01-01' AND DATE '1995-12-31' GROUP BY 1 ORDER BY 1"
                .into(),
        ),
        (
            "Metabase wraps the query in a subquery",
            "SELECT \"source\".\"region\" AS \"region\", SUM(\"source\".\"revenue\") AS \"sum\" FROM \
             (SELECT \"public\".\"sales\".\"region\" AS \"region\", \"public\".\"sales\".\"revenue\" AS \"revenue\" \
             FROM \"public\".\"sales\") AS \"source\" GROUP BY \"source\".\"region\" ORDER BY \"source\".\"region\" ASC"
                .into(),
            format!("SELECT r_name, SUM({REVENUE}) FROM {LINE_TO_REGION} GROUP BY r_name ORDER BY r_name"),
        ),
        (
            "CTE, HAVING-like filter, ORDER BY measure, LIMIT",
            "WITH r AS (SELECT nation, MEASURE(revenue) AS rev FROM sales GROUP BY nation) \
             SELECT nation, rev FROM r WHERE rev > 0 ORDER BY rev DESC LIMIT 3"
                .into(),
            format!("SELECT n_name, SUM({REVENUE}) AS rev FROM {LINE_TO_REGION} GROUP BY n_name ORDER BY rev DESC LIMIT 3"),
        ),
        (
            "HAVING on a measure with OFFSET",
            "SELECT nation, MEASURE(revenue) AS rev FROM sales GROUP BY nation HAVING MEASURE(revenue) > 0 \
             ORDER BY rev DESC LIMIT 5 OFFSET 2"
                .into(),
            format!(
                "SELECT n_name, SUM({REVENUE}) AS rev FROM {LINE_TO_REGION} GROUP BY n_name HAVING SUM({REVENUE}) > 0 \
                 ORDER BY rev DESC LIMIT 5 OFFSET 2"
            ),
        ),
        (
            "COUNT(*) and aggregates over dimensions run over the view's rows",
            "SELECT COUNT(*), MIN(order_date), MAX(ship_date), COUNT(DISTINCT nation) FROM sales".into(),
            format!("SELECT COUNT(*), MIN(o_orderdate), MAX(l_shipdate), COUNT(DISTINCT n_name) FROM {LINE_TO_REGION}"),
        ),
        (
            "filters on dimensions of several models",
            "SELECT brand, MEASURE(quantity) FROM sales WHERE region = 'EUROPE' AND ship_mode IN ('AIR', 'RAIL') \
             GROUP BY brand ORDER BY brand"
                .into(),
            format!(
                "SELECT p_brand, SUM(l_quantity) FROM {LINE_TO_REGION} JOIN part ON l_partkey = p_partkey \
                 WHERE r_name = 'EUROPE' AND l_shipmode IN ('AIR', 'RAIL') GROUP BY p_brand ORDER BY p_brand"
            ),
        ),
        (
            "several dimensions, fully qualified name",
            "SELECT order_priority, order_status, return_flag, line_status, MEASURE(avg_discount), MEASURE(gross_sales) \
             FROM semgate.public.sales GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                .into(),
            "SELECT o_orderpriority, o_orderstatus, l_returnflag, l_linestatus, AVG(l_discount), SUM(l_extendedprice) \
             FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                .into(),
        ),
        (
            "market segment and part type on sales",
            "SELECT market_segment, part_type, MEASURE(line_items) FROM sales WHERE part_type LIKE 'PROMO%' \
             GROUP BY market_segment, part_type ORDER BY 1, 2"
                .into(),
            "SELECT c_mktsegment, p_type, COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey \
             JOIN customer ON o_custkey = c_custkey JOIN part ON l_partkey = p_partkey WHERE p_type LIKE 'PROMO%' \
             GROUP BY 1, 2 ORDER BY 1, 2"
                .into(),
        ),
        (
            "an aggregate around a subquery that drops its dimension works on the subquery's rows",
            "SELECT MAX(revenue), MIN(revenue) FROM (SELECT region, revenue FROM sales) q".into(),
            format!(
                "SELECT MAX(rev), MIN(rev) FROM \
                 (SELECT r_name, SUM({REVENUE}) AS rev FROM {LINE_TO_REGION} GROUP BY r_name) q"
            ),
        ),
        (
            "an aggregate grouped by part of a subquery's dimensions works on the subquery's rows",
            "SELECT region, MAX(revenue), AVG(order_count) FROM (SELECT region, market_segment, revenue, order_count \
             FROM sales) q GROUP BY region ORDER BY region"
                .into(),
            format!(
                "SELECT r_name, MAX(rev), AVG(n) FROM (SELECT r_name, c_mktsegment, SUM({REVENUE}) AS rev, \
                 COUNT(DISTINCT l_orderkey) AS n FROM {LINE_TO_REGION} GROUP BY 1, 2) q GROUP BY r_name ORDER BY r_name"
            ),
        ),
        (
            "a SELECT around a subquery that drops its dimension keeps the subquery's rows",
            "SELECT revenue FROM (SELECT region, revenue FROM sales) q ORDER BY revenue".into(),
            format!("SELECT SUM({REVENUE}) AS rev FROM {LINE_TO_REGION} GROUP BY r_name ORDER BY rev"),
        ),
        (
            "a filter on a subquery's measure is the subquery's HAVING",
            "SELECT region, revenue FROM (SELECT region, revenue FROM sales) q \
             WHERE revenue > (SELECT MEASURE(revenue) / 5 FROM sales) ORDER BY region"
                .into(),
            format!(
                "SELECT r_name, SUM({REVENUE}) FROM {LINE_TO_REGION} GROUP BY r_name \
                 HAVING SUM({REVENUE}) > (SELECT SUM({REVENUE}) / 5 FROM lineitem) ORDER BY r_name"
            ),
        ),
        (
            "a SUM wrapper around SELECT * is the measure (a distinct count is not summed over dimension combinations)",
            "SELECT SUM(order_count), SUM(revenue) FROM (SELECT * FROM sales) q".into(),
            format!("SELECT COUNT(DISTINCT l_orderkey), SUM({REVENUE}) FROM lineitem"),
        ),
        (
            "a join between two views on a dimension",
            "SELECT s.region, s.rev, c.cnt FROM (SELECT region, MEASURE(revenue) AS rev FROM sales GROUP BY region) s \
             JOIN (SELECT region, MEASURE(customer_count) AS cnt FROM customers GROUP BY region) c ON s.region = c.region \
             ORDER BY s.region"
                .into(),
            format!(
                "SELECT r.r_name, r.rev, c.cnt FROM (SELECT r_name, SUM({REVENUE}) AS rev FROM {LINE_TO_REGION} GROUP BY r_name) r \
                 JOIN (SELECT r_name AS rn, COUNT(*) AS cnt FROM customer JOIN nation ON c_nationkey = n_nationkey \
                 JOIN region ON n_regionkey = r_regionkey GROUP BY r_name) c ON r.r_name = c.rn ORDER BY 1"
            ),
        ),
    ]
}
