// The database schema as a list of numbered migration steps (QMapShack style). The
// database's PRAGMA user_version is the number of the last step applied; opening an
// older database applies the missing steps in order, each in its own transaction.
#pragma once

#include <QList>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>

namespace td::store {

struct MigrationStep {
    int version;             // user_version after this step
    QString description;
    QStringList statements;  // executed in order, inside one transaction
};

const QList<MigrationStep> &migrationSteps();
int latestSchemaVersion();

// user_version of an open database, -1 on error.
int schemaVersion(QSqlDatabase &db, QString *error = nullptr);

// Applies the steps after the database's version up to `target` (-1: the latest).
// A database newer than this program knows is refused, never touched.
bool migrate(QSqlDatabase &db, QString *error, int target = -1);

} // namespace td::store
