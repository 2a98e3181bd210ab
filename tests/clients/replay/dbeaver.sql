-- DBeaver (pgjdbc underneath): start-up statements recorded from a DBeaver 25.1.5 session, then the metadata
-- queries of its PostgreSQL plugin for the database, schema public and view sales. "?" parameters are inlined:
-- the schema oid becomes {{oid:public}}, the table oid {{oid:sales}}, the database name 'semgate'.

-- name: dbeaver_extra_float_digits
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs (recorded from DBeaver 25.1.5, see issue #135)
SET extra_float_digits = 3

-- name: dbeaver_application_name
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs
SET application_name = 'DBeaver 25.1.5 - Main <postgres>'

-- name: dbeaver_schema_user
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs; also cube test_introspection.rs dbeaver_introspection_init
-- check: values
SELECT current_schema(),session_user

-- name: dbeaver_namespaces
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java#L1332 (SchemaCache); recorded in datafusion-postgres tests/dbeaver.rs
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
 ORDER BY nspname

-- name: pgjdbc_array_type_1034
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs (pgjdbc TypeInfoCache lookup issued during DBeaver start-up)
-- check: rowcount
SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = 1034

-- name: pgjdbc_array_in_regproc
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs (pgjdbc TypeInfoCache)
-- check: rowcount
SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE pg_type.oid = 1034  ORDER BY sp.r, pg_type.oid DESC

-- name: dbeaver_show_search_path
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs
-- check: rowcount
SHOW search_path

-- name: dbeaver_database
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java#L187 (datname=? -> 'semgate'); recorded in datafusion-postgres tests/dbeaver.rs
-- check: rowcount
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='semgate'

-- name: dbeaver_database_list
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java#L225-L247 (no templates, only connectable; "OR db.datname =?" -> 'semgate')
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE 1 = 1 AND datallowconn AND NOT datistemplate OR db.datname ='semgate'
ORDER BY db.datname

-- name: dbeaver_standard_conforming_strings
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs; PostgreDataSource.java#L777
-- check: rowcount
SELECT * FROM pg_catalog.pg_settings where name='standard_conforming_strings'

-- name: dbeaver_keywords
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs (keyword list shortened to its first entries; same shape: string_agg over pg_get_keywords() with word <> ALL(text[]))
-- check: rowcount
SELECT string_agg(word, ',' ) from pg_catalog.pg_get_keywords() where word <> ALL ('{a,abs,absolute,action,ada,add,admin,after,all,allocate,alter,and,any,are,array,as,asc}'::text[])

-- name: dbeaver_version
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDataSource.java#L441
-- check: rowcount
SELECT version()

-- name: dbeaver_probe_pg_enum
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs (PostgreUtils.isMetaObjectExists)
-- check: rowcount
SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1

-- name: dbeaver_probe_reltype
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs
-- check: rowcount
SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1

-- name: dbeaver_data_types
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java#L706-L720; recorded in datafusion-postgres tests/dbeaver.rs and cube dbeaver_introspection_types
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem 
LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.typname IS NOT NULL
AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')

-- name: dbeaver_tables
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java#L840-L853 (TableCache, PG10+, relnamespace=? -> oid of public)
-- check: rowcount
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key 
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace={{oid:public}} AND c.relkind not in ('i','I','c')

-- name: dbeaver_table_sizes
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java#L667-L671 (relnamespace=? -> oid of public)
-- check: rowcount
select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size
FROM pg_class c
WHERE c.relnamespace={{oid:public}}

-- name: dbeaver_columns
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java#L881-L895 (columns of one table, sequences supported, c.oid=? -> oid of public.sales)
-- check: rowcount
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid={{oid:sales}}
ORDER BY a.attnum

-- name: dbeaver_columns_of_schema
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreSchema.java#L881-L895 (all tables of the schema: c.relnamespace=? -> oid of public)
-- check: rowcount
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.relnamespace={{oid:public}}
ORDER BY a.attnum

-- name: dbeaver_indexes
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs (DBeaver IndexCache, PostgreSchema.java#L1088-L1101; indrelid -> oid of public.sales)
-- check: rowcount
SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  i.indrelid={{oid:sales}} ORDER BY tabrelname, c.relname

-- name: dbeaver_constraints
-- source: https://github.com/datafusion-contrib/datafusion-postgres/blob/4c18f5ad6334effead3b56c787f9b47899959acd/datafusion-postgres/tests/dbeaver.rs (DBeaver ConstraintCache, PostgreSchema.java#L931-L937; conrelid -> oid of public.sales)
-- check: rowcount
SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass
WHERE c.conrelid={{oid:sales}}
ORDER BY c.oid

-- name: dbeaver_roles
-- source: https://github.com/dbeaver/dbeaver/blob/2428359b748778a5a345432906ab3da69289c20c/plugins/org.jkiss.dbeaver.ext.postgresql/src/org/jkiss/dbeaver/ext/postgresql/model/PostgreDatabase.java#L1076-L1080 (roles with comments)
SELECT a.oid,a.*,pd.description FROM pg_catalog.pg_roles a 
left join pg_catalog.pg_shdescription pd on a.oid = pd.objoid
ORDER BY a.rolname
