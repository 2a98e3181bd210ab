import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;

/** pgjdbc (Metabase, DBeaver, Tableau) against semgate: prints what it reads, as TSV, for the Python side to check. */
public class JdbcSmoke {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/semgate";
        try (Connection conn = DriverManager.getConnection(url, "analyst", "analyst")) {
            String sql = "SELECT region, MEASURE(revenue) AS revenue, MEASURE(line_items) AS lines "
                + "FROM sales WHERE region = ? GROUP BY region";
            try (PreparedStatement stmt = conn.prepareStatement(sql)) {
                // pgjdbc switches to a named server-side statement after 5 executions (prepareThreshold=5).
                for (int i = 0; i < 7; i++) {
                    stmt.setString(1, "ASIA");
                    try (ResultSet rs = stmt.executeQuery()) {
                        ResultSetMetaData md = rs.getMetaData();
                        while (rs.next()) {
                            System.out.println("row\t" + i + "\t" + rs.getString(1) + "\t" + rs.getBigDecimal(2) + "\t"
                                + rs.getLong(3) + "\t" + md.getColumnTypeName(2) + "\t" + md.getColumnTypeName(3));
                        }
                    }
                }
            }
            try (PreparedStatement stmt = conn.prepareStatement(
                    "SELECT date_trunc('year', order_date) AS y, SUM(order_count) FROM sales "
                    + "WHERE order_date >= ? GROUP BY 1 ORDER BY 1")) {
                stmt.setDate(1, java.sql.Date.valueOf("1997-01-01"));
                try (ResultSet rs = stmt.executeQuery()) {
                    while (rs.next()) {
                        System.out.println("year\t" + rs.getTimestamp(1).toLocalDateTime().getYear() + "\t" + rs.getLong(2));
                    }
                }
            }
            try {
                conn.createStatement().executeQuery("SELECT nope FROM sales");
            } catch (java.sql.SQLException e) {
                System.out.println("error\t" + e.getSQLState());
            }
            try (ResultSet rs = conn.createStatement().executeQuery("SELECT 1")) {
                rs.next();
                System.out.println("after_error\t" + rs.getInt(1));
            }
            ask(conn);
            resultSetMetaData(conn);
            databaseMetaData(conn);
        }
    }

    /** A question the way DBeaver runs any statement: prepare, describe, then execute; the NOTICE is a warning. */
    static void ask(Connection conn) {
        try (PreparedStatement stmt = conn.prepareStatement("ASK top 3 nations by revenue in 1995")) {
            ResultSetMetaData md = stmt.getMetaData();
            System.out.println("ask_md\t" + md.getColumnLabel(1) + "\t" + md.getColumnLabel(2) + "\t" + md.getColumnTypeName(2));
            try (ResultSet rs = stmt.executeQuery()) {
                while (rs.next()) {
                    System.out.println("ask_row\t" + rs.getString(1) + "\t" + rs.getBigDecimal(2));
                }
            }
            java.sql.SQLWarning warning = stmt.getWarnings();
            System.out.println("ask_notice\t" + (warning == null ? "" : warning.getMessage()));
        } catch (java.sql.SQLException e) {
            System.out.println("ask_error\t" + e.getSQLState() + "\t" + e.getMessage().replace('\n', ' '));
        }
    }

    /** The column types a result reports (what DBeaver, Metabase and Tableau map columns with). */
    static void resultSetMetaData(Connection conn) {
        String sql = "SELECT region, MIN(order_date) AS first_order, date_trunc('month', MIN(order_date)) AS first_month, "
            + "MEASURE(revenue) AS revenue, MEASURE(line_items) AS lines FROM sales GROUP BY region ORDER BY region";
        try (PreparedStatement stmt = conn.prepareStatement(sql); ResultSet rs = stmt.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                System.out.println("rsmd\t" + md.getColumnLabel(i) + "\t" + md.getColumnTypeName(i) + "\t" + md.getColumnType(i)
                    + "\t" + md.getColumnClassName(i) + "\t" + md.isNullable(i) + "\t" + md.isAutoIncrement(i));
            }
            rs.next();
            System.out.println("rsmd_row\t" + rs.getString(1) + "\t" + rs.getDate(2) + "\t" + rs.getTimestamp(3) + "\t"
                + rs.getBigDecimal(4) + "\t" + rs.getLong(5));
        } catch (java.sql.SQLException e) {
            System.out.println("md_error\trsmd\t" + e.getSQLState() + "\t" + e.getMessage().replace('\n', ' '));
        }
    }

    interface MetaCall {
        void run(DatabaseMetaData md) throws java.sql.SQLException;
    }

    static void meta(Connection conn, String name, MetaCall call) {
        try {
            call.run(conn.getMetaData());
        } catch (java.sql.SQLException e) {
            System.out.println("md_error\t" + name + "\t" + e.getSQLState() + "\t" + e.getMessage().replace('\n', ' '));
        }
    }

    /** DatabaseMetaData, as a SQL client's schema browser calls it. */
    static void databaseMetaData(Connection conn) {
        meta(conn, "getSchemas", md -> {
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) System.out.println("schema\t" + rs.getString("TABLE_SCHEM"));
            }
        });
        meta(conn, "getTables", md -> {
            try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"})) {
                while (rs.next()) {
                    System.out.println("table\t" + rs.getString("TABLE_SCHEM") + "\t" + rs.getString("TABLE_NAME") + "\t"
                        + rs.getString("TABLE_TYPE"));
                }
            }
        });
        meta(conn, "getColumns", md -> {
            try (ResultSet rs = md.getColumns(null, "public", "sales", "%")) {
                while (rs.next()) {
                    System.out.println("column\t" + rs.getString("TABLE_NAME") + "\t" + rs.getString("COLUMN_NAME") + "\t"
                        + rs.getString("TYPE_NAME") + "\t" + rs.getInt("DATA_TYPE") + "\t" + rs.getInt("ORDINAL_POSITION"));
                }
            }
        });
        meta(conn, "getPrimaryKeys", md -> {
            int n = 0;
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "sales")) {
                while (rs.next()) n++;
            }
            System.out.println("primary_keys\t" + n);
        });
        meta(conn, "getTypeInfo", md -> {
            try (ResultSet rs = md.getTypeInfo()) {
                while (rs.next()) System.out.println("type_info\t" + rs.getString("TYPE_NAME") + "\t" + rs.getInt("DATA_TYPE"));
            }
        });
    }
}
