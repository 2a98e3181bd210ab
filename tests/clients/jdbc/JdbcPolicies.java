import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

/** pgjdbc as one demo user: the columns getColumns lists for each view, and a prepared query's rows, as TSV. */
public class JdbcPolicies {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/semgate";
        try (Connection conn = DriverManager.getConnection(url, args[1], args[1])) {
            DatabaseMetaData meta = conn.getMetaData();
            try (ResultSet rs = meta.getTables(null, "public", "%", null)) {
                while (rs.next()) {
                    System.out.println("table\t" + rs.getString("TABLE_NAME"));
                }
            }
            try (ResultSet rs = meta.getColumns(null, "public", "sales", "%")) {
                while (rs.next()) {
                    System.out.println("column\t" + rs.getString("COLUMN_NAME"));
                }
            }
            String sql = "SELECT region, MEASURE(line_items) FROM sales WHERE region <> ? GROUP BY region ORDER BY region";
            try (PreparedStatement stmt = conn.prepareStatement(sql)) {
                // Past pgjdbc's prepareThreshold (5): a named server-side statement.
                for (int i = 0; i < 7; i++) {
                    stmt.setString(1, "nowhere");
                    try (ResultSet rs = stmt.executeQuery()) {
                        while (rs.next()) {
                            System.out.println("row\t" + i + "\t" + rs.getString(1) + "\t" + rs.getLong(2));
                        }
                    }
                }
            }
        }
    }
}
