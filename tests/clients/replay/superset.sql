-- Apache Superset (SQLAlchemy's postgresql dialect over psycopg2): reflection queries recorded by Cube from a
-- Superset session. Table oids in the recordings (13449, 18000, 18010) are replaced by {{oid:sales}}.

-- name: superset_primary_key_columns
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (superset_attname_query)
-- check: rowcount
SELECT a.attname
    FROM pg_attribute a JOIN (
    SELECT unnest(ix.indkey) attnum,
    generate_subscripts(ix.indkey, 1) ord
    FROM pg_index ix
    WHERE ix.indrelid = {{oid:sales}} AND ix.indisprimary
    ) k ON a.attnum=k.attnum
    WHERE a.attrelid = {{oid:sales}}
    ORDER BY k.ord

-- name: superset_columns
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (superset_subquery: SQLAlchemy get_columns)
-- check: rowcount
SELECT
    a.attname,
    pg_catalog.format_type(a.atttypid, a.atttypmod),
    (
        SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid)
        FROM pg_catalog.pg_attrdef d
        WHERE
            d.adrelid = a.attrelid AND
            d.adnum = a.attnum AND
            a.atthasdef
    ) AS DEFAULT,
    a.attnotnull,
    a.attnum,
    a.attrelid as table_oid,
    pgd.description as comment,
    a.attgenerated as generated
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_description pgd ON (
    pgd.objoid = a.attrelid AND
    pgd.objsubid = a.attnum
)
WHERE
    a.attrelid = {{oid:sales}}
    AND a.attnum > 0
    AND NOT a.attisdropped
ORDER BY a.attnum
;

-- name: superset_enums
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (superset_visible_query: SQLAlchemy _load_enums)
-- check: rowcount
SELECT
    t.typname as "name",
    pg_catalog.pg_type_is_visible(t.oid) as "visible",
    n.nspname as "schema",
    e.enumlabel as "label"
FROM pg_catalog.pg_type t
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_enum e ON t.oid = e.enumtypid
WHERE t.typtype = 'e'
ORDER BY
    "schema",
    "name",
    e.oid
;

-- name: superset_domains
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (superset_attype_query: SQLAlchemy _load_domains)
SELECT
    t.typname as "name",
    pg_catalog.format_type(t.typbasetype, t.typtypmod) as "attype",
    not t.typnotnull as "nullable",
    t.typdefault as "default",
    pg_catalog.pg_type_is_visible(t.oid) as "visible",
    n.nspname as "schema"
FROM pg_catalog.pg_type t
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd'
;

-- name: superset_indexes
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (superset_indkey_varchar_query: SQLAlchemy get_indexes)
-- check: rowcount
SELECT
    i.relname as relname,
    ix.indisunique,
    ix.indexprs,
    a.attname,
    a.attnum,
    c.conrelid,
    ix.indkey::varchar,
    ix.indoption::varchar,
    i.reloptions,
    am.amname,
    pg_get_expr(ix.indpred, ix.indrelid),
    ix.indnkeyatts as indnkeyatts
FROM pg_class t
    join pg_index ix on t.oid = ix.indrelid
    join pg_class i on i.oid = ix.indexrelid
    left outer join pg_attribute a on t.oid = a.attrelid and a.attnum = ANY(ix.indkey)
    left outer join pg_constraint c on (ix.indrelid = c.conrelid and ix.indexrelid = c.conindid and c.contype in ('p', 'u', 'x'))
    left outer join pg_am am on i.relam = am.oid
WHERE t.relkind IN ('r', 'v', 'f', 'm', 'p') and t.oid = {{oid:sales}} and ix.indisprimary = 'f'
ORDER BY t.relname, i.relname
;

-- name: superset_foreign_keys
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (superset_conname_query: SQLAlchemy get_foreign_keys)
-- check: rowcount
SELECT r.conname,
    pg_catalog.pg_get_constraintdef(r.oid, true) as condef,
    n.nspname as conschema
    FROM  pg_catalog.pg_constraint r,
    pg_namespace n,
    pg_class c
    WHERE r.conrelid = {{oid:sales}} AND
    r.contype = 'f' AND
    c.oid = confrelid AND
    n.oid = c.relnamespace
    ORDER BY 1

-- name: sqlalchemy2_columns_identity
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (sqlalchemy_new_conname_query: SQLAlchemy 2.x get_columns, used by Superset 4)
-- check: rowcount
SELECT
    a.attname,
    pg_catalog.format_type(a.atttypid, a.atttypmod),
    (
        SELECT
            pg_catalog.pg_get_expr(d.adbin, d.adrelid)
        FROM
            pg_catalog.pg_attrdef AS d
        WHERE
            d.adrelid = a.attrelid
            AND d.adnum = a.attnum
            AND a.atthasdef
    ) AS DEFAULT,
    a.attnotnull,
    a.attrelid AS table_oid,
    pgd.description AS comment,
    a.attgenerated AS generated,
    (
        SELECT
            json_build_object(
                'always',
                a.attidentity = 'a',
                'start',
                s.seqstart,
                'increment',
                s.seqincrement,
                'minvalue',
                s.seqmin,
                'maxvalue',
                s.seqmax,
                'cache',
                s.seqcache,
                'cycle',
                s.seqcycle
            )
        FROM
            pg_catalog.pg_sequence AS s
            JOIN pg_catalog.pg_class AS c ON s.seqrelid = c."oid"
        WHERE
            c.relkind = 'S'
            AND a.attidentity <> ''
            AND s.seqrelid = CAST(
                pg_catalog.pg_get_serial_sequence(
                    CAST(CAST(a.attrelid AS REGCLASS) AS TEXT),
                    a.attname
                ) AS REGCLASS
            )
    ) AS identity_options
FROM
    pg_catalog.pg_attribute AS a
    LEFT JOIN pg_catalog.pg_description AS pgd ON (
        pgd.objoid = a.attrelid
        AND pgd.objsubid = a.attnum
    )
WHERE
    a.attrelid = {{oid:sales}}
    AND a.attnum > 0
    AND NOT a.attisdropped
ORDER BY
    a.attnum

-- name: sqlalchemy2_regtype
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (sqlalchemy_regtype)
-- check: rowcount
SELECT
        typname AS name,
        oid,
        typarray AS array_oid,
        CAST(CAST(oid AS regtype) AS TEXT) AS regtype,
        typdelim AS delimiter
    FROM
        pg_type AS t
    WHERE
        t.oid = to_regtype('boolean')
    ORDER BY
        t.oid
    ;
