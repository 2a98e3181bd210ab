-- DataGrip (JetBrains; pgjdbc underneath): connection start-up statements as logged by a PostgreSQL server,
-- plus the ones Cube recorded. DataGrip's full introspector is proprietary; these are the statements it sends first.

-- name: datagrip_extra_float_digits
-- source: https://github.com/datafusion-contrib/datafusion-postgres/issues/165 (server log of DataGrip 2025.2.3 connecting)
SET extra_float_digits = 3

-- name: datagrip_application_name_empty
-- source: https://github.com/datafusion-contrib/datafusion-postgres/issues/165
SET application_name = ''

-- name: datagrip_version
-- source: https://github.com/datafusion-contrib/datafusion-postgres/issues/165
-- check: rowcount
select version()

-- name: datagrip_application_name
-- source: https://github.com/datafusion-contrib/datafusion-postgres/issues/165
SET application_name = 'DataGrip 2025.2.3'

-- name: datagrip_database_and_schemas
-- source: https://github.com/datafusion-contrib/datafusion-postgres/issues/165
-- check: rowcount
select current_database() as a, current_schemas(false) as b

-- name: datagrip_show_isolation
-- source: https://github.com/datafusion-contrib/datafusion-postgres/issues/165
-- check: rowcount
SHOW TRANSACTION ISOLATION LEVEL

-- name: datagrip_database_schema_user
-- source: https://github.com/datafusion-contrib/datafusion-postgres/issues/165
-- check: values
select current_database(), current_schema(), current_user

-- name: datagrip_current_catalog
-- source: https://github.com/cube-js/cube/blob/0fd4d268151fc6d2392b973f160c35d9ad9ac116/rust/cubesql/cubesql/src/compile/test/test_introspection.rs (datagrip_introspection)
-- check: rowcount
select current_database(), current_catalog, current_schema(), current_user;

-- name: datagrip_startup_time
-- source: https://github.com/cube-js/cube/issues/7714 (query quoted in DataGrip's introspection error)
-- check: rowcount
SELECT round(EXTRACT(EPOCH FROM pg_postmaster_start_time() AT TIME ZONE 'UTC')) AS startup_time
