import java.sql.Connection;
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
        }
    }
}
