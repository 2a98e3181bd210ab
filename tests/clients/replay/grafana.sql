-- Grafana's PostgreSQL data source (pgx): the metadata queries its query editor sends, then panel queries
-- after the backend has expanded the macros. Macro expansions follow macros.go exactly:
--   $__time(c)              -> c AS "time"
--   $__timeEpoch(c)         -> extract(epoch from c) as "time"
--   $__timeFilter(c)        -> c BETWEEN '<from RFC3339>' AND '<to RFC3339>'
--   $__timeFrom()/$__timeTo() -> '<RFC3339>'
--   $__timeGroup(c,'1d')    -> floor(extract(epoch from c)/86400)*86400   (+ AS "time" for $__timeGroupAlias)
-- Time range used here: 1995-01-01T00:00:00Z .. 1996-12-31T00:00:00Z (inside the TPC-H demo's dates).

-- name: grafana_version
-- source: https://github.com/grafana/grafana/blob/12f912ab8d010f4d95a4043a0efaa20fc4ca0100/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (getVersion)
-- check: rowcount
SELECT current_setting('server_version_num')::int/100 as version

-- name: grafana_timescaledb_version
-- source: https://github.com/grafana/grafana/blob/12f912ab8d010f4d95a4043a0efaa20fc4ca0100/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (getTimescaleDBVersion)
-- check: rowcount
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'

-- name: grafana_show_schemas
-- source: https://github.com/grafana/grafana/blob/12f912ab8d010f4d95a4043a0efaa20fc4ca0100/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (showSchemas)
-- check: values
SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name

-- name: grafana_show_tables_in_schema
-- source: https://github.com/grafana/grafana/blob/12f912ab8d010f4d95a4043a0efaa20fc4ca0100/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (showTables('public'))
-- check: values
SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'public'
      ORDER BY 1

-- name: grafana_show_tables
-- source: https://github.com/grafana/grafana/blob/12f912ab8d010f4d95a4043a0efaa20fc4ca0100/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (showTables() with buildSchemaConstraint); same text recorded in https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/grafana.rs
-- check: values
SELECT
    CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1

-- name: grafana_get_schema
-- source: https://github.com/grafana/grafana/blob/12f912ab8d010f4d95a4043a0efaa20fc4ca0100/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (getSchema('sales'): the column list of the table picked in the query builder)
-- check: values
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('sales'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('sales'))[1]
          AND quote_ident(table_name) = (parse_ident('sales'))[2]
        ELSE quote_ident(table_name) = 'sales'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END

-- name: grafana_get_schema_qualified
-- source: https://github.com/grafana/grafana/blob/12f912ab8d010f4d95a4043a0efaa20fc4ca0100/public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts (getSchema('public.sales'))
-- check: values
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('public.sales'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('public.sales'))[1]
          AND quote_ident(table_name) = (parse_ident('public.sales'))[2]
        ELSE quote_ident(table_name) = 'public.sales'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END

-- name: grafana_base_tables_on_search_path
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (grafana_insubquery_where_tables, older Grafana table list)
-- check: rowcount
SELECT quote_ident(table_name) AS "table" FROM information_schema.tables WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog', '_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', 'timescaledb_experimental') AND table_type = 'BASE TABLE' AND quote_ident(table_schema) IN (SELECT CASE WHEN TRIM(s[i]) = '"$user"' THEN user ELSE TRIM(s[i]) END FROM generate_series(array_lower(string_to_array(current_setting('search_path'), ','), 1), array_upper(string_to_array(current_setting('search_path'), ','), 1)) AS i, string_to_array(current_setting('search_path'), ',') AS s)

-- name: grafana_time_series_timegroupalias
-- source: https://github.com/grafana/grafana/blob/02ab314b81e2adc656bd7d08cc0533304a0037ff/pkg/tsdb/grafana-postgresql-datasource/macros.go (expansion of: SELECT $__timeGroupAlias(order_date,'1d'), sum(revenue) AS "revenue" FROM sales WHERE $__timeFilter(order_date) GROUP BY 1 ORDER BY 1)
SELECT floor(extract(epoch from order_date)/86400)*86400 AS "time", sum(revenue) AS "revenue" FROM sales WHERE order_date BETWEEN '1995-01-01T00:00:00Z' AND '1996-12-31T00:00:00Z' GROUP BY 1 ORDER BY 1

-- name: grafana_time_series_metric_column
-- source: https://github.com/grafana/grafana/blob/02ab314b81e2adc656bd7d08cc0533304a0037ff/pkg/tsdb/grafana-postgresql-datasource/macros.go (expansion of: SELECT $__timeGroupAlias(order_date,'7d'), region AS metric, sum(revenue) AS value FROM sales WHERE $__timeFilter(order_date) GROUP BY 1, 2 ORDER BY 1)
SELECT floor(extract(epoch from order_date)/604800)*604800 AS "time", region AS metric, sum(revenue) AS value FROM sales WHERE order_date BETWEEN '1995-01-01T00:00:00Z' AND '1996-12-31T00:00:00Z' GROUP BY 1, 2 ORDER BY 1

-- name: grafana_time_series_timegroup_pre53
-- source: https://github.com/grafana/grafana/blob/02ab314b81e2adc656bd7d08cc0533304a0037ff/pkg/tsdb/grafana-postgresql-datasource/macros.go (pre-5.3 form "$__timeGroup(order_date,'30d'), ..." gets AS "time" added)
SELECT floor(extract(epoch from order_date)/2592000)*2592000 AS "time", sum(order_count) AS order_count FROM sales WHERE order_date BETWEEN '1995-01-01T00:00:00Z' AND '1996-12-31T00:00:00Z' GROUP BY 1 ORDER BY 1

-- name: grafana_time_macro_table
-- source: https://github.com/grafana/grafana/blob/02ab314b81e2adc656bd7d08cc0533304a0037ff/pkg/tsdb/grafana-postgresql-datasource/macros.go (expansion of: SELECT $__time(order_date), region, revenue FROM sales WHERE $__timeFilter(order_date) ORDER BY 1 LIMIT 50)
SELECT order_date AS "time", region, revenue FROM sales WHERE order_date BETWEEN '1995-01-01T00:00:00Z' AND '1996-12-31T00:00:00Z' ORDER BY 1 LIMIT 50

-- name: grafana_time_epoch
-- source: https://github.com/grafana/grafana/blob/02ab314b81e2adc656bd7d08cc0533304a0037ff/pkg/tsdb/grafana-postgresql-datasource/macros.go (expansion of: SELECT $__timeEpoch(order_date), sum(revenue) FROM sales WHERE order_date >= $__timeFrom() AND order_date <= $__timeTo() GROUP BY 1 ORDER BY 1)
SELECT extract(epoch from order_date) as "time", sum(revenue) FROM sales WHERE order_date >= '1995-01-01T00:00:00Z' AND order_date <= '1996-12-31T00:00:00Z' GROUP BY 1 ORDER BY 1

-- name: grafana_date_trunc_time_column
-- source: hand-written panel query in the style of Grafana's PostgreSQL docs (date_trunc as the time column) with $__timeFilter expanded per https://github.com/grafana/grafana/blob/02ab314b81e2adc656bd7d08cc0533304a0037ff/pkg/tsdb/grafana-postgresql-datasource/macros.go
SELECT date_trunc('month', order_date) AS "time", ship_mode, sum(quantity) AS quantity FROM sales WHERE order_date BETWEEN '1995-01-01T00:00:00Z' AND '1996-12-31T00:00:00Z' GROUP BY 1, 2 ORDER BY 1, 2

-- name: grafana_builder_table_query
-- source: https://github.com/grafana/grafana/blob/1137a659434e2505dbdaa92c641d08041f2a7a93/public/app/plugins/datasource/grafana-postgresql-datasource/sqlUtil.ts (toRawSql: "SELECT <cols> FROM <table> GROUP BY <g> ORDER BY <o> <dir> LIMIT 50 " incl. trailing space)
SELECT region, SUM(revenue) FROM sales GROUP BY region ORDER BY region ASC LIMIT 50 
