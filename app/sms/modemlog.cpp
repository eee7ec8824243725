#include "sms/modemlog.h"

#include <QDateTime>
#include <QTimeZone>

namespace td::sms {

ModemLog::ModemLog(int capacity, QObject *parent) : QAbstractListModel(parent), m_capacity(qMax(capacity, 10)) {}

int ModemLog::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_entries.size()); }

QVariant ModemLog::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= m_entries.size())
        return {};
    const Entry &e = m_entries.at(index.row());
    switch (role) {
    case Qt::DisplayRole: return formatLine(e);
    case Qt::ToolTipRole:
        return QDateTime::fromMSecsSinceEpoch(e.timeMs, QTimeZone::UTC).toLocalTime().toString(Qt::ISODateWithMs);
    case TimeRole: return e.timeMs;
    case KindRole: return int(e.kind);
    case TextRole: return e.text;
    default: return {};
    }
}

QHash<int, QByteArray> ModemLog::roleNames() const {
    QHash<int, QByteArray> r = QAbstractListModel::roleNames();
    r.insert(TimeRole, "time");
    r.insert(KindRole, "kind");
    r.insert(TextRole, "text");
    return r;
}

QString ModemLog::printable(const QByteArray &line) {
    QString out;
    out.reserve(line.size());
    for (const char ch : line) {
        const uchar c = uchar(ch);
        if (c >= 0x20 && c < 0x7F)
            out.append(QLatin1Char(ch));
        else
            out.append(QLatin1String("<0x") + QString::number(c, 16).toUpper().rightJustified(2, QLatin1Char('0')) + QLatin1Char('>'));
    }
    return out;
}

void ModemLog::addTraffic(bool toModem, const QByteArray &line, qint64 timeMs) {
    Entry e;
    e.timeMs = timeMs >= 0 ? timeMs : QDateTime::currentMSecsSinceEpoch();
    e.kind = toModem ? Kind::ToModem : Kind::FromModem;
    e.text = printable(line);
    append(std::move(e));
}

void ModemLog::addNote(const QString &text, qint64 timeMs) {
    Entry e;
    e.timeMs = timeMs >= 0 ? timeMs : QDateTime::currentMSecsSinceEpoch();
    e.kind = Kind::Note;
    e.text = text;
    append(std::move(e));
}

void ModemLog::append(Entry e) {
    if (m_entries.size() >= m_capacity) {
        // Drop a tenth at once: one removal per many lines, not one per line.
        const int drop = qMax(1, m_capacity / 10);
        beginRemoveRows({}, 0, drop - 1);
        m_entries.remove(0, drop);
        m_dropped += drop;
        endRemoveRows();
    }
    const int row = int(m_entries.size());
    beginInsertRows({}, row, row);
    m_entries.append(std::move(e));
    endInsertRows();
    emit lineAdded(m_entries.last());
}

void ModemLog::clear() {
    beginResetModel();
    m_entries.clear();
    m_dropped = 0;
    endResetModel();
}

QString ModemLog::marked(const Entry &e) {
    const QLatin1StringView mark = e.kind == Kind::ToModem ? QLatin1StringView("> ")
                                 : e.kind == Kind::FromModem ? QLatin1StringView("< ")
                                                             : QLatin1StringView("-- ");
    return mark + e.text;
}

QString ModemLog::formatLine(const Entry &e) {
    return QDateTime::fromMSecsSinceEpoch(e.timeMs, QTimeZone::UTC).toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"))
         + QLatin1Char(' ') + marked(e);
}

QString ModemLog::text() const {
    QString out;
    for (const Entry &e : m_entries)
        out += formatLine(e) + QLatin1Char('\n');
    return out;
}

} // namespace td::sms
