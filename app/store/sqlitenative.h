// The writer's hot path through the SQLite C API, on the very connection QtSql opened
// (QSqlDriver::handle()). Binding through QSqlQuery costs as much CPU as SQLite itself
// (a placeholder name is formatted and hashed for every value); the C API does not.
//
// Used only when it is provably the same SQLite library the Qt driver uses: the
// driver plugin's own sqlite3_prepare_v2 must be the function we resolved. Otherwise
// (a Qt build with a private SQLite copy) NativeApi::get() is null and the store uses
// QSqlQuery -- same SQL, same results, just slower.
#pragma once

#include <QByteArray>
#include <QSqlDatabase>
#include <QString>

namespace td::store {

struct NativeApi {
    using Db = void;
    using Stmt = void;
    int (*prepare_v2)(Db *, const char *, int, Stmt **, const char **) = nullptr;
    int (*bind_int64)(Stmt *, int, long long) = nullptr;
    int (*bind_double)(Stmt *, int, double) = nullptr;
    int (*bind_text)(Stmt *, int, const char *, int, void (*)(void *)) = nullptr;
    int (*bind_blob)(Stmt *, int, const void *, int, void (*)(void *)) = nullptr;
    int (*bind_null)(Stmt *, int) = nullptr;
    int (*step)(Stmt *) = nullptr;
    int (*reset)(Stmt *) = nullptr;
    int (*finalize)(Stmt *) = nullptr;
    int (*changes)(Db *) = nullptr;
    long long (*last_insert_rowid)(Db *) = nullptr;
    const char *(*errmsg)(Db *) = nullptr;

    // The API when it can be used with `db`'s handle, else nullptr.
    static const NativeApi *get(const QSqlDatabase &db, void **handle);
};

// One prepared statement. Binding indexes are 1-based as in SQLite.
class NativeStatement {
public:
    NativeStatement(const NativeApi *api, void *db) : m_api(api), m_db(db) {}
    ~NativeStatement();
    NativeStatement(const NativeStatement &) = delete;
    NativeStatement &operator=(const NativeStatement &) = delete;

    bool prepare(const char *sql, QString *error);
    void bind(int i, qint64 v) { m_api->bind_int64(m_stmt, i, v); }
    void bind(int i, int v) { m_api->bind_int64(m_stmt, i, v); }
    void bind(int i, double v) { m_api->bind_double(m_stmt, i, v); }
    void bindNull(int i) { m_api->bind_null(m_stmt, i); }
    // The bytes must stay alive until exec() returns (SQLITE_STATIC).
    void bindText(int i, const QByteArray &utf8) { m_api->bind_text(m_stmt, i, utf8.constData(), int(utf8.size()), nullptr); }
    void bindBlob(int i, const QByteArray &b) { m_api->bind_blob(m_stmt, i, b.constData(), int(b.size()), nullptr); }
    // Runs the statement (no result rows) and resets it; false with *error on failure.
    bool exec(QString *error);
    int changes() const { return m_api->changes(m_db); }
    qint64 lastInsertId() const { return m_api->last_insert_rowid(m_db); }

private:
    const NativeApi *m_api;
    void *m_db;
    void *m_stmt = nullptr;
};

} // namespace td::store
