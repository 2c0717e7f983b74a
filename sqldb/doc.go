// Package sqldb is what gdprkit knows about the SQL databases it runs on:
// the one Dialect type of the module, reading a live schema (ReadSchema),
// and turning driver errors into gdprkit's sentinel errors without their
// values (Classify).
//
// It imports no SQL driver — the host chooses one — and recognises the
// drivers' errors by their behaviour. It is tested with modernc.org/sqlite,
// github.com/jackc/pgx/v5/stdlib and github.com/go-sql-driver/mysql against
// SQLite, PostgreSQL and MariaDB.
//
// Choices made here:
//
//   - ReadSchema reads only the connection's current schema (PostgreSQL
//     current_schema(), MySQL DATABASE(), SQLite "main") with a fixed number
//     of catalog queries, and normalises column types into a Kind that is
//     the same on every dialect.
//   - Classify never copies a driver's message into its own: messages such
//     as MySQL's "Duplicate entry '<value>' for key …" or PostgreSQL's
//     "invalid input syntax for type integer: \"<value>\"" quote data,
//     which may be personal. It keeps only the names of the constraint,
//     table and column, and the database's error code.
//   - An ended context and a database that cannot be reached are both
//     gdprkit.ErrUnavailable: to a caller, both mean "this did not happen,
//     try again later".
package sqldb
