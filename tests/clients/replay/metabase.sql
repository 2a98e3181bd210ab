-- Metabase's PostgreSQL driver (pgjdbc underneath): start-up statements recorded from a Metabase v0.55.1 session,
-- the sync queries of src/metabase/driver/postgres.clj (HoneySQL rendered with ANSI quoting, parameters inlined),
-- and query-processor output for the view sales.

-- name: metabase_extra_float_digits
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/metabase.rs (recorded from Metabase v0.55.1, see issue #158)
SET extra_float_digits = 2

-- name: metabase_application_name
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/metabase.rs
SET application_name = 'Metabase v0.55.1 [f8f63fdf-d8f8-4573-86ea-4fe4a9548041]'

-- name: metabase_show_isolation
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/metabase.rs
-- check: rowcount
SHOW TRANSACTION ISOLATION LEVEL

-- name: metabase_read_uncommitted
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/metabase.rs
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED

-- name: metabase_read_committed
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/metabase.rs
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED

-- name: metabase_schemas
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/metabase.rs (pgjdbc DatabaseMetaData.getSchemas, called by Metabase's syncable-schemas)
SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG" FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY "TABLE_SCHEM"

-- name: metabase_table_privileges
-- source: https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj (current-user-table-privileges); identical text recorded in datafusion-postgres tests/metabase.rs
-- check: rowcount
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t

-- name: metabase_get_tables
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/metabase.rs (recorded rendering of get-tables-sql in https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj)
-- check: rowcount
SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type", "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = '0') AND ("d"."classoid" = 'pg_class'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN ('public')) ORDER BY "type" ASC, "schema" ASC, "name" ASC

-- name: metabase_show_timezone
-- source: https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj (db-default-timezone)
-- check: rowcount
show timezone;

-- name: metabase_enum_types
-- source: https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj (enum-types)
-- check: rowcount
SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)

-- name: metabase_describe_fields_v0_51_8
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (test_metabase_v0_51_8_introspection; same HoneySQL as describe-fields-sql in https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj)
-- check: rowcount
select
    "c"."column_name" as "name",
    case
        when "c"."udt_schema" in ('public', 'pg_catalog')
        then format('%s', "c"."udt_name")
        else format('"%s"."%s"', "c"."udt_schema", "c"."udt_name")
    end as "database-type",
    "c"."ordinal_position" - 1 as "database-position",
    "c"."table_schema" as "table-schema",
    "c"."table_name" as "table-name",
    "pk"."column_name" is not null as "pk?",
    col_description(
        cast(
            cast(
                format(
                    '%I.%I',
                    cast("c"."table_schema" as text),
                    cast("c"."table_name" as text)
                ) as regclass
            ) as oid
        ),
        "c"."ordinal_position"
    ) as "field-comment",
    (("column_default" is null) or (lower("column_default") = 'null'))
    and ("is_nullable" = 'NO')
    and not (
        (("column_default" is not null) and ("column_default" like '%nextval(%'))
        or ("is_identity" <> 'NO')
    ) as "database-required",
    (("column_default" is not null) and ("column_default" like '%nextval(%'))
    or ("is_identity" <> 'NO') as "database-is-auto-increment"
from "information_schema"."columns" as "c"
left join
    (
        select "tc"."table_schema", "tc"."table_name", "kc"."column_name"
        from "information_schema"."table_constraints" as "tc"
        inner join
            "information_schema"."key_column_usage" as "kc"
            on ("tc"."constraint_name" = "kc"."constraint_name")
            and ("tc"."table_schema" = "kc"."table_schema")
            and ("tc"."table_name" = "kc"."table_name")
        where "tc"."constraint_type" = 'PRIMARY KEY'
    ) as "pk"
    on ("c"."table_schema" = "pk"."table_schema")
    and ("c"."table_name" = "pk"."table_name")
    and ("c"."column_name" = "pk"."column_name")
where
    c.table_schema !~ '^information_schema|catalog_history|pg_'
    and ("c"."table_schema" in ('public'))
union all
select
    "pa"."attname" as "name",
    case
        when "ptn"."nspname" in ('public', 'pg_catalog')
        then format('%s', "pt"."typname")
        else format('"%s"."%s"', "ptn"."nspname", "pt"."typname")
    end as "database-type",
    "pa"."attnum" - 1 as "database-position",
    "pn"."nspname" as "table-schema",
    "pc"."relname" as "table-name",
    false as "pk?",
    null as "field-comment",
    false as "database-required",
    false as "database-is-auto-increment"
from "pg_catalog"."pg_class" as "pc"
inner join "pg_catalog"."pg_namespace" as "pn" on "pn"."oid" = "pc"."relnamespace"
inner join "pg_catalog"."pg_attribute" as "pa" on "pa"."attrelid" = "pc"."oid"
inner join "pg_catalog"."pg_type" as "pt" on "pt"."oid" = "pa"."atttypid"
inner join "pg_catalog"."pg_namespace" as "ptn" on "ptn"."oid" = "pt"."typnamespace"
where ("pc"."relkind" = 'm') and ("pa"."attnum" >= 1) and ("pn"."nspname" in ('public'))
order by "table-schema" asc, "table-name" asc, "database-position" asc

-- name: metabase_describe_fields_v0_51_2
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (test_metabase_v0_51_2_introspection_field_indoption)
-- check: rowcount
SELECT
c.column_name AS name,
c.udt_name AS database_type,
c.ordinal_position - 1 AS database_position,
c.table_schema AS table_schema,
c.table_name AS table_name,
pk.column_name IS NOT NULL AS pk,
COL_DESCRIPTION(
    CAST(
        CAST(
            FORMAT(
            '%I.%I',
            CAST(c.table_schema AS TEXT),
            CAST(c.table_name AS TEXT)
            ) AS REGCLASS
        ) AS OID
    ),
    c.ordinal_position
) AS field_comment,
(
    (column_default IS NULL)
    OR (LOWER(column_default) = 'null')
)
AND (is_nullable = 'NO')
AND NOT (
    (
    (column_default IS NOT NULL)
    AND (column_default LIKE '%nextval(%')
    )
    OR (is_identity <> 'NO')
) AS database_required,
(
    (column_default IS NOT NULL)
    AND (column_default LIKE '%nextval(%')
)
OR (is_identity <> 'NO') AS database_is_auto_increment
FROM
information_schema.columns AS c
LEFT JOIN (
    SELECT
    tc.table_schema,
    tc.table_name,
    kc.column_name
    FROM
    information_schema.table_constraints AS tc
    INNER JOIN information_schema.key_column_usage AS kc ON (tc.constraint_name = kc.constraint_name)
    AND (tc.table_schema = kc.table_schema)
    AND (tc.table_name = kc.table_name)
    WHERE
    tc.constraint_type = 'PRIMARY KEY'
) AS pk ON (c.table_schema = pk.table_schema)
AND (c.table_name = pk.table_name)
AND (c.column_name = pk.column_name)
WHERE
c.table_schema !~ '^information_schema|catalog_history|pg_'
AND (c.table_schema IN ('public'))
ORDER BY
table_schema ASC,
  table_name ASC,
  database_position ASC

-- name: metabase_describe_fks
-- source: https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj (describe-fks-sql, HoneySQL rendered by hand with ANSI quoting, schema-names ['public'])
-- check: rowcount
SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name", "pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name" FROM "pg_constraint" AS "c" INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid" INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid" INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid" INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid" INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid" INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid" WHERE (fk_ns.nspname !~ '^information_schema|catalog_history|pg_') AND ("c"."contype" = 'f'::char) AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey)) AND ("fk_ns"."nspname" IN ('public')) ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC

-- name: metabase_describe_indexes
-- source: https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj (describe-indexes-sql, HoneySQL rendered by hand with ANSI quoting, schema-names ['public'])
-- check: rowcount
SELECT "tmp"."table-schema", "tmp"."table-name", TRIM(BOTH '"' FROM PG_CATALOG.PG_GET_INDEXDEF("tmp"."ci_oid", "tmp"."pos", FALSE)) AS "field-name" FROM (SELECT "n"."nspname" AS "table-schema", "ct"."relname" AS "table-name", "ci"."oid" AS "ci_oid", (INFORMATION_SCHEMA._PG_EXPANDARRAY("i"."indkey")).n AS "pos" FROM "pg_catalog"."pg_class" AS "ct" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "ct"."relnamespace" = "n"."oid" INNER JOIN "pg_catalog"."pg_index" AS "i" ON "ct"."oid" = "i"."indrelid" INNER JOIN "pg_catalog"."pg_class" AS "ci" ON "ci"."oid" = "i"."indexrelid" WHERE (PG_CATALOG.PG_GET_EXPR("i"."indpred", "i"."indrelid") IS NULL) AND (n.nspname !~ '^information_schema|catalog_history|pg_') AND ("n"."nspname" IN ('public'))) AS "tmp" WHERE "tmp"."pos" = 1

-- name: metabase_primary_keys
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (metabase_table_cat_query = pgjdbc getPrimaryKeys; table 'actor' -> 'sales')
-- check: rowcount
SELECT  result.table_cat,
        result.table_schem,
        result.table_name,
        result.column_name,
        result.key_seq,
        result.pk_name
    FROM (
        SELECT  NULL AS table_cat,
                n.nspname AS table_schem,
                ct.relname AS table_name,
                a.attname AS column_name,
                (information_schema._pg_expandarray(i.indkey)).n as key_seq,
                ci.relname AS pk_name,
                information_schema._pg_expandarray(i.indkey) AS keys,
                a.attnum AS a_attnum
            FROM   pg_catalog.pg_class ct
            JOIN   pg_catalog.pg_attribute a ON(ct.oid = a.attrelid)
            JOIN   pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
            JOIN   pg_catalog.pg_index i ON (a.attrelid = i.indrelid)
            JOIN   pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)
        WHERE true AND ct.relname = 'sales' AND i.indisprimary) result
WHERE result.a_attnum = (result.keys).x
ORDER BY result.table_name, result.pk_name, result.key_seq;

-- name: metabase_row_sample
-- source: Metabase query-processor output shape for a table sample (fully qualified ANSI-quoted columns, LIMIT), constructed for the view sales
SELECT "public"."sales"."order_date" AS "order_date", "public"."sales"."region" AS "region", "public"."sales"."revenue" AS "revenue" FROM "public"."sales" LIMIT 10000

-- name: metabase_field_values
-- source: Metabase query-processor output shape for field values / distinct dimension values, constructed for the view sales
SELECT "public"."sales"."region" AS "region" FROM "public"."sales" GROUP BY "public"."sales"."region" ORDER BY "public"."sales"."region" ASC LIMIT 1000

-- name: metabase_sum_by_month
-- source: Metabase query-processor output for "Sum of Revenue by Order date: Month" — date-trunc on a date column is cast back to date (https://github.com/metabase/metabase/blob/008fd6675457cdd62da2265628bed3b725a607ea/src/metabase/driver/postgres.clj date-trunc), constructed for the view sales
SELECT CAST(DATE_TRUNC('month', "public"."sales"."order_date") AS date) AS "order_date", SUM("public"."sales"."revenue") AS "sum" FROM "public"."sales" GROUP BY CAST(DATE_TRUNC('month', "public"."sales"."order_date") AS date) ORDER BY CAST(DATE_TRUNC('month', "public"."sales"."order_date") AS date) ASC

-- name: metabase_count_by_dimension
-- source: Metabase query-processor output for "Count of rows by Ship mode", constructed for the view sales
SELECT "public"."sales"."ship_mode" AS "ship_mode", COUNT(*) AS "count" FROM "public"."sales" GROUP BY "public"."sales"."ship_mode" ORDER BY "public"."sales"."ship_mode" ASC
