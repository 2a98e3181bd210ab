-- Power BI Desktop talks to PostgreSQL through Npgsql. On every connection Npgsql loads the server's types
-- (one simple-protocol batch: version, types, composite fields, enum labels); Power BI then lists schemas,
-- tables and columns through information_schema and runs its own data queries.
--
-- Entry format (see replay_fixtures.py): "-- name:" starts an entry, "-- key: value" lines follow, then the SQL.
-- {{oid:public}} / {{oid:sales}} are replaced by the oid of schema public / view public.sales on the server.

-- name: npgsql_version
-- source: https://github.com/npgsql/npgsql/blob/3cb5804b769b000a1fc88ad8e5e764667f0df4a1/src/Npgsql/PostgresDatabaseInfo.cs#L210 (versionQuery)
SELECT version();

-- name: npgsql_load_types
-- source: https://github.com/npgsql/npgsql/blob/3cb5804b769b000a1fc88ad8e5e764667f0df4a1/src/Npgsql/PostgresDatabaseInfo.cs#L120-L170 (GenerateLoadTypesQuery rendered for PG15: withRange, withMultirange, hasTypeCategory, no table composites, no schema list)
SELECT ns.nspname, t.oid, t.typname, t.typtype, t.typnotnull, t.elemtypoid
FROM (
    -- Arrays have typtype=b - this subquery identifies them by their typreceive and converts their typtype to a
    -- We first do this for the type (innerest-most subquery), and then for its element type
    -- This also returns the array element, range subtype and domain base type as elemtypoid
    SELECT
        typ.oid, typ.typnamespace, typ.typname, typ.typtype, typ.typrelid, typ.typnotnull, typ.relkind,
        elemtyp.oid AS elemtypoid, elemtyp.typname AS elemtypname, elemcls.relkind AS elemrelkind,
        CASE WHEN elemproc.proname='array_recv' THEN 'a' ELSE elemtyp.typtype END AS elemtyptype
        , typ.typcategory
    FROM (
        SELECT typ.oid, typnamespace, typname, typrelid, typnotnull, relkind, typelem AS elemoid,
            CASE WHEN proc.proname='array_recv' THEN 'a' ELSE typ.typtype END AS typtype,
            CASE
                WHEN proc.proname='array_recv' THEN typ.typelem
                WHEN typ.typtype='r' THEN rngsubtype
                WHEN typ.typtype='m' THEN (SELECT rngtypid FROM pg_range WHERE rngmultitypid = typ.oid)
                WHEN typ.typtype='d' THEN typ.typbasetype
            END AS elemtypoid
            , typ.typcategory
        FROM pg_type AS typ
        LEFT JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
        LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive
        LEFT JOIN pg_range ON (pg_range.rngtypid = typ.oid)
    ) AS typ
    LEFT JOIN pg_type AS elemtyp ON elemtyp.oid = elemtypoid
    LEFT JOIN pg_class AS elemcls ON (elemcls.oid = elemtyp.typrelid)
    LEFT JOIN pg_proc AS elemproc ON elemproc.oid = elemtyp.typreceive
) AS t
JOIN pg_namespace AS ns ON (ns.oid = typnamespace)
WHERE
    
    (typtype IN ('b', 'r', 'm', 'e', 'd') OR -- Base, range, multirange, enum, domain
    (typtype = 'c' AND relkind='c') OR -- User-defined free-standing composites (not table composites) by default
    (typtype = 'p' AND typname IN ('record', 'void', 'unknown')) OR -- Some special supported pseudo-types
    (typtype = 'a' AND (  -- Array of...
        elemtyptype IN ('b', 'r', 'm', 'e', 'd') OR -- Array of base, range, multirange, enum, domain
        (elemtyptype = 'p' AND elemtypname IN ('record', 'void')) OR -- Arrays of special supported pseudo-types
        (elemtyptype = 'c' AND elemrelkind='c') -- Array of user-defined free-standing composites (not table composites) by default
    )))
ORDER BY CASE
       WHEN typtype IN ('b', 'e', 'p') THEN 0           -- First base types, enums, pseudo-types
       WHEN typtype = 'c' THEN 1                        -- Composites after (fields loaded later in 2nd pass)
       WHEN typtype = 'r' THEN 2                        -- Ranges after
       WHEN typtype = 'm' THEN 3                        -- Multiranges after
       WHEN typtype = 'd' AND elemtyptype <> 'a' THEN 4 -- Domains over non-arrays after
       WHEN typtype = 'a' THEN 5                        -- Arrays after
       WHEN typtype = 'd' AND elemtyptype = 'a' THEN 6  -- Domains over arrays last
END;

-- name: npgsql_load_composites
-- source: https://github.com/npgsql/npgsql/blob/3cb5804b769b000a1fc88ad8e5e764667f0df4a1/src/Npgsql/PostgresDatabaseInfo.cs#L172-L185 (GenerateLoadCompositeTypesQuery, default settings)
-- check: rowcount
-- Load field definitions for (free-standing) composite types
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
  (typ.typtype = 'c' AND cls.relkind='c') AND
  
  attnum > 0 AND     -- Don't load system attributes
  NOT attisdropped
ORDER BY typ.oid, att.attnum;

-- name: npgsql_load_enums
-- source: https://github.com/npgsql/npgsql/blob/3cb5804b769b000a1fc88ad8e5e764667f0df4a1/src/Npgsql/PostgresDatabaseInfo.cs#L187-L195 (GenerateLoadEnumFieldsQuery, enumsortorder, no schema list)
-- check: rowcount
-- Load enum fields
SELECT typ.oid, enumlabel
FROM pg_enum
JOIN pg_type AS typ ON typ.oid = enumtypid
JOIN pg_namespace AS ns ON ns.oid = typ.typnamespace

ORDER BY oid, enumsortorder;

-- name: npgsql_type_loading_batch
-- source: https://github.com/npgsql/npgsql/blob/3cb5804b769b000a1fc88ad8e5e764667f0df4a1/src/Npgsql/PostgresDatabaseInfo.cs#L318-L335 (the four queries above sent as ONE simple Query message; the client reads all four result sets, psycopg2 sees the last)
-- batch-of: npgsql_version, npgsql_load_types, npgsql_load_composites, npgsql_load_enums

-- name: powerbi_npgsql4_supported_types
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (powerbi_supported_types: the Npgsql 4.x type query Power BI Desktop ships; "ORDER BY a.typname" is cube's stable-sort edit of "ORDER BY ord")
/*** Load all supported types ***/
SELECT ns.nspname, a.typname, a.oid, a.typrelid, a.typbasetype,
CASE WHEN pg_proc.proname='array_recv' THEN 'a' ELSE a.typtype END AS type,
CASE
  WHEN pg_proc.proname='array_recv' THEN a.typelem
  WHEN a.typtype='r' THEN rngsubtype
  ELSE 0
END AS elemoid,
CASE
  WHEN pg_proc.proname IN ('array_recv','oidvectorrecv') THEN 3    /* Arrays last */
  WHEN a.typtype='r' THEN 2                                        /* Ranges before */
  WHEN a.typtype='d' THEN 1                                        /* Domains before */
  ELSE 0                                                           /* Base types first */
END AS ord
FROM pg_type AS a
JOIN pg_namespace AS ns ON (ns.oid = a.typnamespace)
JOIN pg_proc ON pg_proc.oid = a.typreceive
LEFT OUTER JOIN pg_class AS cls ON (cls.oid = a.typrelid)
LEFT OUTER JOIN pg_type AS b ON (b.oid = a.typelem)
LEFT OUTER JOIN pg_class AS elemcls ON (elemcls.oid = b.typrelid)
LEFT OUTER JOIN pg_range ON (pg_range.rngtypid = a.oid)
WHERE
  a.typtype IN ('b', 'r', 'e', 'd') OR         /* Base, range, enum, domain */
  (a.typtype = 'c' AND cls.relkind='c') OR /* User-defined free-standing composites (not table composites) by default */
  (pg_proc.proname='array_recv' AND (
    b.typtype IN ('b', 'r', 'e', 'd') OR       /* Array of base, range, enum, domain */
    (b.typtype = 'p' AND b.typname IN ('record', 'void')) OR /* Arrays of special supported pseudo-types */
    (b.typtype = 'c' AND elemcls.relkind='c')  /* Array of user-defined free-standing composites (not table composites) */
  )) OR
  (a.typtype = 'p' AND a.typname IN ('record', 'void'))  /* Some special supported pseudo-types */
/* changed for stable sort ORDER BY ord */
ORDER BY a.typname

-- name: powerbi_npgsql4_composite_types
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (powerbi_composite_types)
-- check: rowcount
/*** Load field definitions for (free-standing) composite types ***/
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
    (typ.typtype = 'c' AND cls.relkind='c') AND
attnum > 0 AND     /* Don't load system attributes */
NOT attisdropped
ORDER BY typ.oid, att.attnum

-- name: powerbi_npgsql4_enums
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (powerbi_enums)
-- check: rowcount
/*** Load enum fields ***/
SELECT pg_type.oid, enumlabel
FROM pg_enum
JOIN pg_type ON pg_type.oid=enumtypid
ORDER BY oid, enumsortorder

-- name: powerbi_table_columns
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (powerbi_table_columns; table 'KibanaSampleDataEcommerce' -> 'sales')
-- check: values
select COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE, case when (data_type like '%unsigned%') then DATA_TYPE || ' unsigned' else DATA_TYPE end as DATA_TYPE
from INFORMATION_SCHEMA.columns
where TABLE_SCHEMA = 'public' and TABLE_NAME = 'sales'
order by TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION

-- name: powerbi_schemas
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (powerbi_schemas)
-- check: values
select TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE
from INFORMATION_SCHEMA.tables
where TABLE_SCHEMA not in ('information_schema', 'pg_catalog')
order by TABLE_SCHEMA, TABLE_NAME

-- name: powerbi_foreign_keys
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (powerbi_from_subquery; table 'users' -> 'sales')
-- check: rowcount
select
    pkcol.COLUMN_NAME as PK_COLUMN_NAME,
    fkcol.TABLE_SCHEMA AS FK_TABLE_SCHEMA,
    fkcol.TABLE_NAME AS FK_TABLE_NAME,
    fkcol.COLUMN_NAME as FK_COLUMN_NAME,
    fkcol.ORDINAL_POSITION as ORDINAL,
    fkcon.CONSTRAINT_SCHEMA || '_' || fkcol.TABLE_NAME || '_' || 'sales' || '_' || fkcon.CONSTRAINT_NAME as FK_NAME
from
    (select distinct constraint_catalog, constraint_schema, unique_constraint_schema, constraint_name, unique_constraint_name
        from INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS) fkcon
        inner join
    INFORMATION_SCHEMA.KEY_COLUMN_USAGE fkcol
        on fkcon.CONSTRAINT_SCHEMA = fkcol.CONSTRAINT_SCHEMA
        and fkcon.CONSTRAINT_NAME = fkcol.CONSTRAINT_NAME
        inner join
    INFORMATION_SCHEMA.KEY_COLUMN_USAGE pkcol
        on fkcon.UNIQUE_CONSTRAINT_SCHEMA = pkcol.CONSTRAINT_SCHEMA
        and fkcon.UNIQUE_CONSTRAINT_NAME = pkcol.CONSTRAINT_NAME
where pkcol.TABLE_SCHEMA = 'public' and pkcol.TABLE_NAME = 'sales'
        and pkcol.ORDINAL_POSITION = fkcol.ORDINAL_POSITION
order by FK_NAME, fkcol.ORDINAL_POSITION
;

-- name: powerbi_indexes
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (powerbi_uppercase_alias; table -> 'sales')
-- check: rowcount
select
    i.CONSTRAINT_SCHEMA || '_' || i.CONSTRAINT_NAME as INDEX_NAME,
    ii.COLUMN_NAME,
    ii.ORDINAL_POSITION,
    case
        when i.CONSTRAINT_TYPE = 'PRIMARY KEY' then 'Y'
        else 'N'
    end as PRIMARY_KEY
from INFORMATION_SCHEMA.table_constraints i
inner join INFORMATION_SCHEMA.key_column_usage ii on
    i.CONSTRAINT_SCHEMA = ii.CONSTRAINT_SCHEMA and
    i.CONSTRAINT_NAME = ii.CONSTRAINT_NAME and
    i.TABLE_SCHEMA = ii.TABLE_SCHEMA and
    i.TABLE_NAME = ii.TABLE_NAME
where
    i.TABLE_SCHEMA = 'public' and
    i.TABLE_NAME = 'sales' and
    i.CONSTRAINT_TYPE in ('PRIMARY KEY', 'UNIQUE')
order by
    i.CONSTRAINT_SCHEMA || '_' || i.CONSTRAINT_NAME,
    ii.TABLE_SCHEMA,
    ii.TABLE_NAME,
    ii.ORDINAL_POSITION
;

-- name: powerbi_count_distinct_max_case
-- source: https://github.com/cube-js/cube/blob/14fe36dcb4c08855d3811e1cf9702d7976e1777e/rust/cubesql/cubesql/src/compile/test/test_bi_workarounds.rs (Power BI DirectQuery distinct-count idiom; "customer_gender" -> "region", "countDistinct" -> "nation", "KibanaSampleDataEcommerce" -> "sales")
select
    "rows"."region" as "region",
    count(distinct("rows"."nation")) + max(
        case
            when "rows"."nation" is null then 1
            else 0
        end
    ) as "a0"
from
    "public"."sales" "rows"
group by
    "region"
limit
    1000001
;

-- name: powerbi_subselect_order_limit
-- source: https://github.com/cube-js/cube/blob/14fe36dcb4c08855d3811e1cf9702d7976e1777e/rust/cubesql/cubesql/src/compile/test/test_bi_workarounds.rs (test_powerbi_max_case_over_non_count_distinct_is_not_dropped; "customer_gender" -> "region", "maxPrice" -> "revenue")
select
    "rows"."region" as "region",
    max(
        case
            when "rows"."revenue" is null then 1
            else 0
        end
    ) as "a0"
from
    (
        select
            "_"."region",
            "_"."revenue"
        from
            "public"."sales" "_"
    ) "rows"
group by
    "region"
order by
    "a0" desc
limit
    10
;
