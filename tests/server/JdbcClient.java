// A JDBC client of `apiary server`, through the Hive JDBC driver: DatabaseMetaData,
// PreparedStatement, fetch sizes, every Hive type, query timeouts. Exits non-zero on the first
// check that fails. Run by tests/server/clients.py with the server's JDBC URL.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

public class JdbcClient {
    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private static void checkEquals(Object expected, Object actual, String what) {
        check(expected == null ? actual == null : expected.equals(actual),
            what + ": expected " + expected + ", got " + actual);
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        try (Connection connection = DriverManager.getConnection(url, "jdbc_user", "")) {
            metadata(connection);
            types(connection);
            preparedStatements(connection);
            fetchSizes(connection);
            timeouts(connection);
        }
        System.out.println("JDBC client: all checks passed");
    }

    private static void metadata(Connection connection) throws SQLException {
        DatabaseMetaData meta = connection.getMetaData();
        checkEquals("Apache Hive", meta.getDatabaseProductName(), "product name");
        checkEquals(3, meta.getDatabaseMajorVersion(), "major version");
        try (Statement statement = connection.createStatement()) {
            statement.execute("create database if not exists jdbc_db");
            statement.execute(
                "create table if not exists jdbc_db.items (id int comment 'the key', name string, "
                    + "price decimal(10,2), tags array<string>) partitioned by (day string)");
        }
        List<String> schemas = new ArrayList<>();
        try (ResultSet rs = meta.getSchemas()) {
            while (rs.next()) {
                schemas.add(rs.getString("TABLE_SCHEM"));
            }
        }
        check(schemas.contains("default") && schemas.contains("jdbc_db"), "schemas " + schemas);
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = meta.getTables(null, "jdbc_db", "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                tables.add(rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
            }
        }
        checkEquals(List.of("items:TABLE"), tables, "tables");
        List<String> columns = new ArrayList<>();
        try (ResultSet rs = meta.getColumns(null, "jdbc_db", "items", "%")) {
            while (rs.next()) {
                columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getInt("DATA_TYPE") + ":"
                    + rs.getString("TYPE_NAME") + ":" + rs.getInt("ORDINAL_POSITION"));
                if (rs.getString("COLUMN_NAME").equals("price")) {
                    checkEquals(10, rs.getInt("COLUMN_SIZE"), "price size");
                    checkEquals(2, rs.getInt("DECIMAL_DIGITS"), "price digits");
                }
                if (rs.getString("COLUMN_NAME").equals("id")) {
                    checkEquals("the key", rs.getString("REMARKS"), "id comment");
                }
            }
        }
        checkEquals(List.of("id:4:INT:1", "name:12:STRING:2", "price:3:DECIMAL:3",
                "tags:2003:array<string>:4", "day:12:STRING:5"), columns, "columns");
        int types = 0;
        try (ResultSet rs = meta.getTypeInfo()) {
            while (rs.next()) {
                types++;
            }
        }
        check(types > 10, "type info rows " + types);
        try (ResultSet rs = meta.getPrimaryKeys(null, "jdbc_db", "items")) {
            check(!rs.next(), "no primary keys");
        }
    }

    private static void types(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                 "select cast(1 as tinyint) ti, cast(2 as smallint) si, 3 i, 4000000000 bi, "
                     + "cast(1.5 as float) f, cast(2.25 as double) d, cast('3.10' as decimal(5,2)) dec, 'text' s, "
                     + "true b, cast('2024-02-29' as date) dt, "
                     + "cast('2024-02-29 10:11:12.5' as timestamp) ts, "
                     + "cast('bytes' as binary) bin, array(1, 2) arr, map('k', 'v') m, "
                     + "named_struct('a', 1) st, cast(null as int) n")) {
            ResultSetMetaData meta = rs.getMetaData();
            int[] expected = {Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT,
                Types.FLOAT, Types.DOUBLE, Types.DECIMAL, Types.VARCHAR, Types.BOOLEAN,
                Types.DATE, Types.TIMESTAMP, Types.BINARY, Types.ARRAY, Types.JAVA_OBJECT,
                Types.STRUCT, Types.INTEGER};
            for (int i = 0; i < expected.length; i++) {
                checkEquals(expected[i], meta.getColumnType(i + 1), "type of " + meta.getColumnName(i + 1));
            }
            check(rs.next(), "a row");
            checkEquals((byte) 1, rs.getByte("ti"), "tinyint");
            checkEquals((short) 2, rs.getShort("si"), "smallint");
            checkEquals(3, rs.getInt("i"), "int");
            checkEquals(4000000000L, rs.getLong("bi"), "bigint");
            checkEquals(1.5f, rs.getFloat("f"), "float");
            checkEquals(2.25d, rs.getDouble("d"), "double");
            checkEquals(new BigDecimal("3.10"), rs.getBigDecimal("dec"), "decimal");
            checkEquals("text", rs.getString("s"), "string");
            checkEquals(true, rs.getBoolean("b"), "boolean");
            checkEquals("2024-02-29", rs.getDate("dt").toString(), "date");
            checkEquals("2024-02-29 10:11:12.5", rs.getTimestamp("ts").toString(), "timestamp");
            checkEquals("bytes", new String((byte[]) rs.getObject("bin")), "binary");
            checkEquals("[1,2]", rs.getString("arr"), "array");
            checkEquals("{\"k\":\"v\"}", rs.getString("m"), "map");
            checkEquals("{\"a\":1}", rs.getString("st"), "struct");
            rs.getInt("n");
            check(rs.wasNull(), "null int");
            check(!rs.next(), "one row");
        }
    }

    private static void preparedStatements(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("create table if not exists people (id int, name string)");
            statement.execute("insert overwrite table people values (1, 'ana'), (2, 'bo'), (3, 'cy\\'s')");
        }
        try (PreparedStatement prepared = connection.prepareStatement(
                "select id from people where name = ? or id = ? order by id")) {
            prepared.setString(1, "cy's");
            prepared.setInt(2, 1);
            List<Integer> ids = new ArrayList<>();
            try (ResultSet rs = prepared.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getInt(1));
                }
            }
            checkEquals(List.of(1, 3), ids, "prepared statement rows");
        }
    }

    private static void fetchSizes(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("create table if not exists numbers (n int)");
            StringBuilder values = new StringBuilder();
            for (int i = 0; i < 250; i++) {
                values.append(i == 0 ? "" : ", ").append("(").append(i).append(")");
            }
            statement.execute("insert overwrite table numbers values " + values);
            statement.setFetchSize(7);
            long sum = 0;
            int rows = 0;
            try (ResultSet rs = statement.executeQuery("select n from numbers")) {
                while (rs.next()) {
                    sum += rs.getInt(1);
                    rows++;
                }
            }
            checkEquals(250, rows, "rows fetched seven at a time");
            checkEquals(250L * 249 / 2, sum, "sum of rows");
        }
    }

    private static void timeouts(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.setQueryTimeout(1);
            try {
                statement.executeQuery(
                    "select sum(a.n * b.n - c.n + d.n) from numbers a, numbers b, numbers c, numbers d");
                throw new AssertionError("the query should have timed out");
            } catch (SQLTimeoutException expected) {
                check(expected.getMessage().contains("timed out"), expected.getMessage());
            }
        }
    }
}
