// node-postgres (pg) against semgate: runs each case and prints one JSON object for test_node_pg.py to check.
// Usage: node pg_smoke.js PORT
'use strict';
const { Client } = require('pg');

// Dates as the server sends them ('YYYY-MM-DD'), not JS Dates in the local time zone.
const types = { getTypeParser: (oid, format) => (oid === 1082 ? (v) => v : require('pg').types.getTypeParser(oid, format)) };

async function attempt(fn) {
  try {
    return await fn();
  } catch (e) {
    return { error: e.message, code: e.code || null };
  }
}

function shape(res) {
  return { fields: res.fields.map((f) => [f.name, f.dataTypeID]), rows: res.rows, command: res.command };
}

async function main() {
  const client = new Client({
    host: '127.0.0.1', port: Number(process.argv[2]), user: 'analyst', password: 'analyst', database: 'semgate', types,
  });
  await client.connect();
  const out = {};
  // No values: the simple query protocol.
  out.simple = await attempt(async () => shape(await client.query(
    'SELECT region, MEASURE(revenue) AS revenue, MEASURE(line_items) AS lines, MIN(order_date) AS first_order ' +
    'FROM sales GROUP BY region ORDER BY region')));
  // Values: the extended protocol with an unnamed statement, parameters sent as text with no type.
  out.params = await attempt(async () => shape(await client.query(
    'SELECT nation, MEASURE(revenue) AS revenue FROM sales WHERE region = $1 AND order_date >= $2 ' +
    'GROUP BY nation ORDER BY nation', ['ASIA', '1996-01-01'])));
  // A JS Date as a parameter: pg sends it as a timestamp string with an offset.
  out.date_param = await attempt(async () => shape(await client.query(
    'SELECT MEASURE(order_count) AS orders FROM sales WHERE order_date >= $1 AND order_date < $2',
    [new Date(Date.UTC(1995, 0, 1)), new Date(Date.UTC(1995, 6, 1))])));
  // A named prepared statement: parsed once, then bound and executed again by name.
  const named = {
    name: 'customers_by_segment',
    text: 'SELECT market_segment, MEASURE(customer_count) AS n FROM customers WHERE market_segment = $1 ' +
      'GROUP BY market_segment',
  };
  out.named_first = await attempt(async () => shape(await client.query({ ...named, values: ['BUILDING'] })));
  out.named_second = await attempt(async () => shape(await client.query({ ...named, values: ['MACHINERY'] })));
  // rowMode array and a query after an error: the connection must stay usable.
  out.error = await attempt(async () => shape(await client.query('SELECT no_such_column FROM sales')));
  out.after_error = await attempt(async () => shape(await client.query({ text: 'SELECT 1 AS one', rowMode: 'array' })));
  await client.end();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
