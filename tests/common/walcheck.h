// Whether anything pins a database's WAL: a statement or transaction left open on some
// connection keeps its snapshot, checkpoints can then never reset the WAL and it grows
// without bound while the server writes. Tries a TRUNCATE checkpoint from a connection of
// its own; SQLite answers busy at once while another checkpoint is in a pass, so it tries
// for a while (a pinned WAL stays busy however long it tries).
#pragma once

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QTest>

namespace td::test {

// 0: the WAL was reset; 1: still busy after `attempts` tries; -1: the checkpoint failed.
inline int truncateCheckpointBusy(const QString &dbPath, int attempts = 40) {
    const QString conn = QStringLiteral("wal-check");
    int busy = 1;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), conn);
        db.setDatabaseName(dbPath);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=100"));
        if (!db.open()) {
            busy = -1;
        } else {
            QSqlQuery q(db);
            for (int attempt = 0; attempt < attempts && busy == 1; ++attempt) {
                if (attempt > 0)
                    QTest::qWait(50);
                busy = q.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")) && q.next() ? q.value(0).toInt() : -1;
                q.finish();
            }
            db.close();
        }
    }
    QSqlDatabase::removeDatabase(conn);
    return busy;
}

} // namespace td::test
