-- Tableau's PostgreSQL connector goes through the psqlODBC driver (libpq underneath). psqlODBC sends a fixed set of
-- statements at connect time, answers SQLTables/SQLColumns/SQLPrimaryKeys/SQLForeignKeys with its own catalog
-- queries, and with UseDeclareFetch wraps result sets in "declare ... cursor with hold for ..." + "fetch N in ...".
-- The Tableau-specific statements below were recorded by Cube from Tableau Desktop (test_introspection.rs).

-- name: odbc_show_datestyle
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/connection.c#L1109
-- check: rowcount
SHOW DateStyle;

-- name: odbc_set_datestyle_show_isolation
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/connection.c#L1120 ("SET DateStyle = 'ISO';" ISOLATION_SHOW_QUERY as one Query message)
-- check: rowcount
SET DateStyle = 'ISO';show transaction_isolation

-- name: odbc_show_max_identifier_length
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/connection.c#L1365
-- check: rowcount
show max_identifier_length

-- name: odbc_lo_type
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/connection.c#L2662
-- check: rowcount
select oid, typbasetype from pg_type where typname = 'lo'

-- name: odbc_current_schema
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/connection.c#L2727
-- check: values
select current_schema()

-- name: odbc_set_client_encoding
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/connection.c#L646
set client_encoding to 'UTF8'

-- name: odbc_sqltables
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/info.c#L1930-L2032 (PGAPI_Tables, all table types, no pattern)
-- check: values
select relname, nspname, relkind from pg_catalog.pg_class c, pg_catalog.pg_namespace n where relkind in ('r', 'v', 'm', 'f', 'p') and nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_1') and n.oid = relnamespace order by nspname, relname

-- name: odbc_sqltables_pattern
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/info.c#L1930-L2032 (PGAPI_Tables with schema 'public' and table 'sales': gen_opestr gives "like E")
-- check: values
select relname, nspname, relkind from pg_catalog.pg_class c, pg_catalog.pg_namespace n where relkind in ('r', 'v', 'm', 'f', 'p') and nspname like E'public' and relname like E'sales' and nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_1') and n.oid = relnamespace order by nspname, relname

-- name: odbc_declare_fetch
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/convert.c#L3129 and qresult.c#L1160 (UseDeclareFetch: 'declare "<cursor>" cursor with hold for <query>' then 'fetch <n> in "<cursor>"'; Tableau aggregate query as the body)
declare "SQL_CUR0x55d1c8a0" cursor with hold for SELECT "sales"."region" AS "region", SUM("sales"."revenue") AS "sum:revenue:ok" FROM "public"."sales" "sales" GROUP BY 1;fetch 100 in "SQL_CUR0x55d1c8a0"

-- name: tableau_aggregate
-- source: Tableau-generated aggregate shape ("<agg>:<field>:ok" aliases, table aliased by its name, GROUP BY ordinal) as sent through psqlODBC; constructed for the view sales
SELECT "sales"."region" AS "region",
  SUM("sales"."revenue") AS "sum:revenue:ok",
  COUNT(DISTINCT "sales"."nation") AS "ctd:nation:ok"
FROM "public"."sales" "sales"
GROUP BY 1

-- name: tableau_fk_null_text
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (tableau_null_text_query; table 'payment' -> 'sales')
-- check: rowcount
SELECT
    NULL::text AS PKTABLE_CAT,
    pkn.nspname AS PKTABLE_SCHEM,
    pkc.relname AS PKTABLE_NAME,
    pka.attname AS PKCOLUMN_NAME,
    NULL::text AS FKTABLE_CAT,
    fkn.nspname AS FKTABLE_SCHEM,
    fkc.relname AS FKTABLE_NAME,
    fka.attname AS FKCOLUMN_NAME,
    pos.n AS KEY_SEQ,
    CASE con.confupdtype
        WHEN 'c' THEN 0
        WHEN 'n' THEN 2
        WHEN 'd' THEN 4
        WHEN 'r' THEN 1
        WHEN 'p' THEN 1
        WHEN 'a' THEN 3
        ELSE NULL
    END AS UPDATE_RULE,
    CASE con.confdeltype
        WHEN 'c' THEN 0
        WHEN 'n' THEN 2
        WHEN 'd' THEN 4
        WHEN 'r' THEN 1
        WHEN 'p' THEN 1
        WHEN 'a' THEN 3
        ELSE NULL
    END AS DELETE_RULE,
    con.conname AS FK_NAME,
    pkic.relname AS PK_NAME,
    CASE
        WHEN con.condeferrable AND con.condeferred THEN 5
        WHEN con.condeferrable THEN 6
        ELSE 7
    END AS DEFERRABILITY
FROM
    pg_catalog.pg_namespace pkn,
    pg_catalog.pg_class pkc,
    pg_catalog.pg_attribute pka,
    pg_catalog.pg_namespace fkn,
    pg_catalog.pg_class fkc,
    pg_catalog.pg_attribute fka,
    pg_catalog.pg_constraint con,
    pg_catalog.generate_series(1, 32) pos(n),
    pg_catalog.pg_class pkic
WHERE
    pkn.oid = pkc.relnamespace AND
    pkc.oid = pka.attrelid AND
    pka.attnum = con.confkey[pos.n] AND
    con.confrelid = pkc.oid AND
    fkn.oid = fkc.relnamespace AND
    fkc.oid = fka.attrelid AND
    fka.attnum = con.conkey[pos.n] AND
    con.conrelid = fkc.oid AND
    con.contype = 'f' AND
    (pkic.relkind = 'i' OR pkic.relkind = 'I') AND
    pkic.oid = con.conindid AND
    fkn.nspname = 'public' AND
    fkc.relname = 'sales'
ORDER BY
    pkn.nspname,
    pkc.relname,
    con.conname,
    pos.n
;

-- name: tableau_primary_keys_expandarray
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (tableau_table_cat_query; table 'payment' -> 'sales')
-- check: rowcount
SELECT
    result.TABLE_CAT,
    result.TABLE_SCHEM,
    result.TABLE_NAME,
    result.COLUMN_NAME,
    result.KEY_SEQ,
    result.PK_NAME
FROM
    (
        SELECT
            NULL AS TABLE_CAT,
            n.nspname AS TABLE_SCHEM,
            ct.relname AS TABLE_NAME,
            a.attname AS COLUMN_NAME,
            (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ,
            ci.relname AS PK_NAME,
            information_schema._pg_expandarray(i.indkey) AS KEYS,
            a.attnum AS A_ATTNUM
        FROM pg_catalog.pg_class ct
        JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)
        JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
        JOIN pg_catalog.pg_index i ON (a.attrelid = i.indrelid)
        JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)
        WHERE
            true AND
            n.nspname = 'public' AND
            ct.relname = 'sales' AND
            i.indisprimary
    ) result
    where result.A_ATTNUM = (result.KEYS).x
ORDER BY
    result.table_name,
    result.pk_name,
    result.key_seq;

-- name: tableau_desktop_constraints
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (tableau_desktop_constraints; table -> 'sales'; psqlODBC SQLForeignKeys)
-- check: rowcount
select	'test'::name as PKTABLE_CAT,
    n2.nspname as PKTABLE_SCHEM,
    c2.relname as PKTABLE_NAME,
    a2.attname as PKCOLUMN_NAME,
    'test'::name as FKTABLE_CAT,
    n1.nspname as FKTABLE_SCHEM,
    c1.relname as FKTABLE_NAME,
    a1.attname as FKCOLUMN_NAME,
    i::int2 as KEY_SEQ,
    case ref.confupdtype
        when 'c' then 0::int2
        when 'n' then 2::int2
        when 'd' then 4::int2
        when 'r' then 1::int2
        else 3::int2
    end as UPDATE_RULE,
    case ref.confdeltype
        when 'c' then 0::int2
        when 'n' then 2::int2
        when 'd' then 4::int2
        when 'r' then 1::int2
        else 3::int2
    end as DELETE_RULE,
    ref.conname as FK_NAME,
    cn.conname as PK_NAME,
    case
        when ref.condeferrable then
            case
            when ref.condeferred then 5::int2
            else 6::int2
            end
        else 7::int2
    end as DEFERRABLITY
 from
 ((((((( (select cn.oid, conrelid, conkey, confrelid, confkey,
     generate_series(array_lower(conkey, 1), array_upper(conkey, 1)) as i,
     confupdtype, confdeltype, conname,
     condeferrable, condeferred
  from pg_catalog.pg_constraint cn,
    pg_catalog.pg_class c,
    pg_catalog.pg_namespace n
  where contype = 'f'
   and  conrelid = c.oid
   and  relname = 'sales'
   and  n.oid = c.relnamespace
   and  n.nspname = 'public'
 ) ref
 inner join pg_catalog.pg_class c1
  on c1.oid = ref.conrelid)
 inner join pg_catalog.pg_namespace n1
  on  n1.oid = c1.relnamespace)
 inner join pg_catalog.pg_attribute a1
  on  a1.attrelid = c1.oid
  and  a1.attnum = conkey[i])
 inner join pg_catalog.pg_class c2
  on  c2.oid = ref.confrelid)
 inner join pg_catalog.pg_namespace n2
  on  n2.oid = c2.relnamespace)
 inner join pg_catalog.pg_attribute a2
  on  a2.attrelid = c2.oid
  and  a2.attnum = confkey[i])
 left outer join pg_catalog.pg_constraint cn
  on cn.conrelid = ref.confrelid
  and cn.contype = 'p')
  order by ref.oid, ref.i;

-- name: odbc_sqlcolumns
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/info.c#L2441-L2475 (PGAPI_Columns for PG >= 12, schema 'public', table 'sales', pattern search). Cube's older Tableau recording (tableau_desktop_table_columns) selects c.relhasoids, which PG12+ no longer has.
-- check: rowcount
select n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attnum, a.attlen, a.atttypmod, a.attnotnull, c.relhasrules, c.relkind, c.oid, pg_get_expr(d.adbin, d.adrelid), case t.typtype when 'd' then t.typbasetype else 0 end, t.typtypmod, 0, attidentity, c.relhassubclass from (((pg_catalog.pg_class c inner join pg_catalog.pg_namespace n on n.oid = c.relnamespace and c.relname like E'sales' and n.nspname like E'public') inner join pg_catalog.pg_attribute a on (not a.attisdropped) and a.attnum operator(pg_catalog.>) 0 and a.attrelid operator(pg_catalog.=) c.oid) inner join pg_catalog.pg_type t on t.oid operator(pg_catalog.=) a.atttypid) left outer join pg_attrdef d on a.atthasdef and d.adrelid operator(pg_catalog.=) a.attrelid and d.adnum operator(pg_catalog.=) a.attnum order by n.nspname, c.relname, attnum

-- name: odbc_sqlcolumns_by_oid
-- source: https://github.com/postgresql-interfaces/psqlodbc/blob/bc439e8fc144d8f0810d4497bbcdbf1018e6492e/info.c#L2441-L2475 (PGAPI_Columns search_by_ids: "and c.oid = <reloid>", as used when describing a result column)
-- check: rowcount
select n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attnum, a.attlen, a.atttypmod, a.attnotnull, c.relhasrules, c.relkind, c.oid, pg_get_expr(d.adbin, d.adrelid), case t.typtype when 'd' then t.typbasetype else 0 end, t.typtypmod, 0, attidentity, c.relhassubclass from (((pg_catalog.pg_class c inner join pg_catalog.pg_namespace n on n.oid = c.relnamespace and c.oid = {{oid:sales}}) inner join pg_catalog.pg_attribute a on (not a.attisdropped) and a.attnum operator(pg_catalog.>) 0 and a.attrelid operator(pg_catalog.=) c.oid) inner join pg_catalog.pg_type t on t.oid operator(pg_catalog.=) a.atttypid) left outer join pg_attrdef d on a.atthasdef and d.adrelid operator(pg_catalog.=) a.attrelid and d.adnum operator(pg_catalog.=) a.attnum order by n.nspname, c.relname, attnum

-- name: tableau_desktop_pkeys
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (tableau_desktop_pkeys = psqlODBC SQLPrimaryKeys; table -> 'sales')
-- check: rowcount
SELECT
        ta.attname,
        ia.attnum,
        ic.relname,
        n.nspname,
        tc.relname
    FROM
        pg_catalog.pg_attribute ta,
        pg_catalog.pg_attribute ia,
        pg_catalog.pg_class tc,
        pg_catalog.pg_index i,
        pg_catalog.pg_namespace n,
        pg_catalog.pg_class ic
    WHERE
        tc.relname = 'sales'
        AND n.nspname = 'public'
        AND tc.oid = i.indrelid
        AND n.oid = tc.relnamespace
        AND i.indisprimary = 't'
        AND ia.attrelid = i.indexrelid
        AND ta.attrelid = i.indrelid
        AND ta.attnum = i.indkey [ia.attnum-1]
        AND (NOT ta.attisdropped)
        AND (NOT ia.attisdropped)
        AND ic.oid = i.indexrelid
    ORDER BY
        ia.attnum;

-- name: tableau_desktop_tables
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (tableau_desktop_tables)
-- check: values
select
        relname,
        nspname,
        relkind
    from
        pg_catalog.pg_class c,
        pg_catalog.pg_namespace n
    where
        relkind in ('r', 'v', 'm', 'f')
        and nspname not in (
            'pg_catalog',
            'information_schema',
            'pg_toast',
            'pg_temp_1'
        )
        and n.oid = relnamespace
    order by
        nspname,
        relname

-- name: tableau_get_expr
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (tableau_get_expr_query; the oids are pg_namespace/pg_class/pg_description's fixed catalog oids)
SELECT c.oid, a.attnum, a.attname, c.relname, n.nspname, a.attnotnull OR ( t.typtype = 'd' AND t.typnotnull ), a.attidentity != '' OR pg_catalog.Pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%'
    FROM   pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n
        ON ( c.relnamespace = n.oid )
    JOIN pg_catalog.pg_attribute a
        ON ( c.oid = a.attrelid )
    JOIN pg_catalog.pg_type t
        ON ( a.atttypid = t.oid )
    LEFT JOIN pg_catalog.pg_attrdef d
        ON ( d.adrelid = a.attrelid AND d.adnum = a.attnum )
    JOIN (SELECT 2615 AS oid, 2 AS attnum UNION ALL SELECT 1259, 2 UNION ALL SELECT 2609, 4) vals
    ON ( c.oid = vals.oid AND a.attnum = vals.attnum );

-- name: tableau_regclass_tables
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (tableau_regclass_query, pgjdbc-style getTables with TABLE_TYPE)
-- check: rowcount
SELECT NULL          AS TABLE_CAT,
    n.nspname     AS TABLE_SCHEM,
    c.relname     AS TABLE_NAME,
    CASE n.nspname ~ '^pg_'
          OR n.nspname = 'information_schema'
      WHEN true THEN
        CASE
          WHEN n.nspname = 'pg_catalog'
                OR n.nspname = 'information_schema' THEN
            CASE c.relkind
              WHEN 'r' THEN 'SYSTEM TABLE'
              WHEN 'v' THEN 'SYSTEM VIEW'
              WHEN 'i' THEN 'SYSTEM INDEX'
              ELSE NULL
            end
          WHEN n.nspname = 'pg_toast' THEN
            CASE c.relkind
              WHEN 'r' THEN 'SYSTEM TOAST TABLE'
              WHEN 'i' THEN 'SYSTEM TOAST INDEX'
              ELSE NULL
            end
          ELSE
            CASE c.relkind
              WHEN 'r' THEN 'TEMPORARY TABLE'
              WHEN 'p' THEN 'TEMPORARY TABLE'
              WHEN 'i' THEN 'TEMPORARY INDEX'
              WHEN 'S' THEN 'TEMPORARY SEQUENCE'
              WHEN 'v' THEN 'TEMPORARY VIEW'
              ELSE NULL
            end
        end
      WHEN false THEN
        CASE c.relkind
          WHEN 'r' THEN 'TABLE'
          WHEN 'p' THEN 'PARTITIONED TABLE'
          WHEN 'i' THEN 'INDEX'
          WHEN 'P' THEN 'PARTITIONED INDEX'
          WHEN 'S' THEN 'SEQUENCE'
          WHEN 'v' THEN 'VIEW'
          WHEN 'c' THEN 'TYPE'
          WHEN 'f' THEN 'FOREIGN TABLE'
          WHEN 'm' THEN 'MATERIALIZED VIEW'
          ELSE NULL
        end
      ELSE NULL
    end           AS TABLE_TYPE,
    d.description AS REMARKS,
    ''            AS TYPE_CAT,
    ''            AS TYPE_SCHEM,
    ''            AS TYPE_NAME,
    ''            AS SELF_REFERENCING_COL_NAME,
    ''            AS REF_GENERATION
FROM   pg_catalog.pg_namespace n,
    pg_catalog.pg_class c
    LEFT JOIN pg_catalog.pg_description d
           ON ( c.oid = d.objoid
                AND d.objsubid = 0
                AND d.classoid = 'pg_class' :: regclass )
WHERE  c.relnamespace = n.oid
    AND ( false
           OR ( c.relkind = 'f' )
           OR ( c.relkind = 'm' )
           OR ( c.relkind = 'p'
                AND n.nspname !~ '^pg_'
                AND n.nspname <> 'information_schema' )
           OR ( c.relkind = 'r'
                AND n.nspname !~ '^pg_'
                AND n.nspname <> 'information_schema' )
           OR ( c.relkind = 'v'
                AND n.nspname <> 'pg_catalog'
                AND n.nspname <> 'information_schema' ) )
ORDER BY TABLE_SCHEM ASC, TABLE_NAME ASC
;
