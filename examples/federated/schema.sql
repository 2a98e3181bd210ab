-- The tables examples/federated puts in databases, with the demo's column types (src/demo.rs, tpch_schema).
-- Written once for PostgreSQL, MariaDB and SQLite: all three read this SQL as it is.
CREATE TABLE region (
  r_regionkey BIGINT NOT NULL PRIMARY KEY,
  r_name VARCHAR(25) NOT NULL,
  r_comment VARCHAR(152) NOT NULL
);
CREATE TABLE nation (
  n_nationkey BIGINT NOT NULL PRIMARY KEY,
  n_name VARCHAR(25) NOT NULL,
  n_regionkey BIGINT NOT NULL,
  n_comment VARCHAR(152) NOT NULL
);
CREATE TABLE customer (
  c_custkey BIGINT NOT NULL PRIMARY KEY,
  c_name VARCHAR(25) NOT NULL,
  c_address VARCHAR(40) NOT NULL,
  c_nationkey BIGINT NOT NULL,
  c_phone VARCHAR(15) NOT NULL,
  c_acctbal DECIMAL(15,2) NOT NULL,
  c_mktsegment VARCHAR(10) NOT NULL,
  c_comment VARCHAR(117) NOT NULL
);
CREATE TABLE part (
  p_partkey BIGINT NOT NULL PRIMARY KEY,
  p_name VARCHAR(55) NOT NULL,
  p_mfgr VARCHAR(25) NOT NULL,
  p_brand VARCHAR(10) NOT NULL,
  p_type VARCHAR(25) NOT NULL,
  p_size INT NOT NULL,
  p_container VARCHAR(10) NOT NULL,
  p_retailprice DECIMAL(15,2) NOT NULL,
  p_comment VARCHAR(23) NOT NULL
);
CREATE TABLE supplier (
  s_suppkey BIGINT NOT NULL PRIMARY KEY,
  s_name VARCHAR(25) NOT NULL,
  s_address VARCHAR(40) NOT NULL,
  s_nationkey BIGINT NOT NULL,
  s_phone VARCHAR(15) NOT NULL,
  s_acctbal DECIMAL(15,2) NOT NULL,
  s_comment VARCHAR(101) NOT NULL
);
CREATE TABLE orders (
  o_orderkey BIGINT NOT NULL PRIMARY KEY,
  o_custkey BIGINT NOT NULL,
  o_orderstatus VARCHAR(1) NOT NULL,
  o_totalprice DECIMAL(15,2) NOT NULL,
  o_orderdate DATE NOT NULL,
  o_orderpriority VARCHAR(15) NOT NULL,
  o_clerk VARCHAR(15) NOT NULL,
  o_shippriority INT NOT NULL,
  o_comment VARCHAR(79) NOT NULL
);
