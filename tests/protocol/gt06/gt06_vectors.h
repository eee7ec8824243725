// Loads tests/data/gt06_vectors.tsv (real GT06/Concox/Topin traffic; columns documented in
// shared/reference/gt06/facts.md section 10) for the data-driven GT06 tests.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

struct Gt06Vector {
    int row = 0;                   // 1-based data row (line number - 1)
    QHash<QString, QString> col;   // by column name
    QByteArray bytes;              // the hex column
    QString operator[](const char *name) const { return col.value(QString::fromLatin1(name)); }
    QString tag() const {
        return QStringLiteral("row%1 %2 %3").arg(row, 3, 10, QLatin1Char('0')).arg(col.value(QStringLiteral("message_type")),
                                                                                   col.value(QStringLiteral("model_override")));
    }
};

inline QList<Gt06Vector> loadGt06Vectors(QString *error) {
    QList<Gt06Vector> rows;
    QFile f(QStringLiteral(TD_TEST_DATA "/gt06_vectors.tsv"));
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot open %1").arg(f.fileName());
        return rows;
    }
    const QList<QByteArray> lines = f.readAll().split('\n');
    const QStringList header = QString::fromUtf8(lines.value(0)).trimmed().split(QLatin1Char('\t'));
    if (!header.contains(QStringLiteral("hex"))) {
        *error = QStringLiteral("%1 has no hex column").arg(f.fileName());
        return rows;
    }
    for (int i = 1; i < lines.size(); ++i) {
        const QString line = QString::fromUtf8(lines[i]);
        if (line.trimmed().isEmpty())
            continue;
        const QStringList cells = line.split(QLatin1Char('\t'));
        Gt06Vector v;
        v.row = i;
        for (int c = 0; c < header.size(); ++c)
            v.col.insert(header[c], cells.value(c).trimmed());
        v.bytes = QByteArray::fromHex(v.col.value(QStringLiteral("hex")).toLatin1());
        rows << v;
    }
    return rows;
}
