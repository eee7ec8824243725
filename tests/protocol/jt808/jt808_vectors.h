// Loads tests/data/jt808_vectors.tsv (real JT/T 808 traffic, see its header line).
#pragma once

#include <QByteArray>
#include <QFile>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

struct Jt808Vector {
    QHash<QString, QString> col;   // by column name
    QByteArray bytes;              // the hex column
    QString id() const { return col.value(QStringLiteral("id")); }
    QString operator[](const char *name) const { return col.value(QString::fromLatin1(name)); }
    bool isText() const { return col.value(QStringLiteral("msg_id")) == QLatin1String("text"); }
    // Rows that only check the (un)escaping of a byte string, not a JT/T 808 message.
    bool isEscapeOnly() const {
        const QString id = col.value(QStringLiteral("msg_id"));
        return id.isEmpty() || id == QLatin1String("escape-only");
    }
    int messageId() const { return col.value(QStringLiteral("msg_id")).toInt(nullptr, 16); }
};

// Returns the rows of a TSV file with a header line; *error set when unreadable.
inline QList<Jt808Vector> loadTsv(const QString &path, QString *error) {
    QList<Jt808Vector> rows;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot open %1").arg(path);
        return rows;
    }
    const QList<QByteArray> lines = f.readAll().split('\n');
    if (lines.isEmpty()) {
        *error = QStringLiteral("%1 is empty").arg(path);
        return rows;
    }
    const QStringList header = QString::fromUtf8(lines[0]).trimmed().split(QLatin1Char('\t'));
    for (int i = 1; i < lines.size(); ++i) {
        const QString line = QString::fromUtf8(lines[i]);
        if (line.trimmed().isEmpty())
            continue;
        const QStringList cells = line.split(QLatin1Char('\t'));
        Jt808Vector v;
        for (int c = 0; c < header.size(); ++c)
            v.col.insert(header[c], cells.value(c).trimmed());
        const QString hexColumn = v.col.value(QStringLiteral("hex"));
        v.bytes = QByteArray::fromHex(hexColumn.toLatin1());
        rows << v;
    }
    return rows;
}

inline QList<Jt808Vector> loadJt808Vectors(QString *error) {
    return loadTsv(QStringLiteral(TD_TEST_DATA "/jt808_vectors.tsv"), error);
}
