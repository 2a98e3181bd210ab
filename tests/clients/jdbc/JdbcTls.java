import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;

/** pgjdbc over TLS: connects to args[0] (with sslmode=verify-full pgjdbc connects only over TLS, the certificate
 * verified against sslrootcert and the host name) as args[1]/args[2] and prints the first value of query args[3]. */
public class JdbcTls {
    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("user", args[1]);
        properties.setProperty("password", args[2]);
        try (Connection connection = DriverManager.getConnection(args[0], properties);
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(args[3])) {
            rows.next();
            System.out.println(rows.getString(1));
        }
    }
}
