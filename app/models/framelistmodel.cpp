#include "models/framelistmodel.h"


namespace td {

proto::DecodedFrame decodeRow(const FrameRow &row) {
    proto::SessionOptions opts;
    opts.direction = row.direction;
    const proto::Protocol *p = proto::protocolById(row.protocol);
    if (!p) {
        bool more = false;
        p = proto::sniffProtocol(row.bytes, &more);
    }
    if (!p) {
        proto::DecodedFrame f;
        f.protocol = row.protocol;
        f.bytes = row.bytes;
        f.typeName = QStringLiteral("Not a tracker frame");
        if (!row.bytes.isEmpty())
            f.fields.append(proto::makeField(0, int(row.bytes.size()), QStringLiteral("Bytes"),
                                             QStringLiteral("%1 bytes").arg(row.bytes.size())));
        f.warnings << QStringLiteral("no protocol decoder for these bytes");
        return f;
    }
    return p->decodeFrame(row.bytes, opts);
}

FrameRow rowFromStored(const store::StoredFrame &f, const QString &deviceKey) {
    FrameRow r;
    r.id = f.id;
    r.replyTo = f.replyTo;
    r.direction = f.direction;
    r.time = f.time;
    r.peer = f.peerPort ? QStringLiteral("%1:%2").arg(f.peerAddress).arg(f.peerPort) : f.peerAddress;
    r.deviceKey = deviceKey;
    r.deviceId = f.deviceId;
    r.protocol = f.protocol;
    r.type = f.type;
    r.bytes = f.bytes;
    const proto::DecodedFrame d = decodeRow(r);
    r.typeName = d.typeName;
    r.summary = d.summary;
    r.warnings = d.warnings;
    return r;
}

FrameListModel::FrameListModel(QObject *parent) : QAbstractTableModel(parent) {
    m_timer.setInterval(100);
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &FrameListModel::flush);
}

int FrameListModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int FrameListModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant FrameListModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time: return tr("Time");
    case Direction: return tr("Dir");
    case Peer: return tr("Peer");
    case Device: return tr("Device");
    case Protocol: return tr("Protocol");
    case Type: return tr("Type");
    case Summary: return tr("Summary");
    case Length: return tr("Length");
    }
    return {};
}

QVariant FrameListModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const FrameRow &r = m_rows.at(index.row());
    const bool in = r.direction == proto::Direction::FromDevice;
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time: {   // today's frames to the millisecond; older ones (History) with their day
            const QDateTime local = r.time.toLocalTime();
            return local.date() == QDate::currentDate() ? local.toString(QStringLiteral("HH:mm:ss.zzz"))
                                                        : local.toString(QStringLiteral("dd.MM. HH:mm:ss"));
        }
        case Direction: return in ? QStringLiteral("in") : QStringLiteral("out");
        case Peer: return r.peer;
        case Device: return deviceLabel(r);
        case Protocol: return r.protocol;
        case Type: return r.type >= 0 ? QStringLiteral("%1 (%2)").arg(r.typeName, proto::typeIdText(r.type)) : r.typeName;
        case Summary: return r.warnings.isEmpty() ? r.summary : QStringLiteral("⚠ %1 — %2").arg(r.warnings.join(QStringLiteral("; ")), r.summary);
        case Length: return int(r.bytes.size());
        }
        break;
    case Qt::ToolTipRole:
        if (!r.warnings.isEmpty())
            return r.warnings.join(QLatin1Char('\n'));
        if (index.column() == Time)
            return r.time.toLocalTime().toString(Qt::ISODateWithMs);
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == Length)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case IdRole: return r.id;
    case WarningRole: return !r.warnings.isEmpty();
    case ReplyToRole: return r.replyTo;
    case DirectionRole: return in ? 0 : 1;
    case ProtocolRole: return r.protocol;
    case TypeRole: return r.type;
    case DeviceRole: return r.deviceKey;
    }
    return {};
}

void FrameListModel::appendFrames(const QList<FrameRow> &rows) {
    m_pending.append(rows);
    if (!m_timer.isActive())
        m_timer.start();
}

void FrameListModel::flush() {
    m_timer.stop();
    if (m_pending.isEmpty())
        return;
    QList<FrameRow> batch;
    batch.swap(m_pending);
    if (batch.size() > m_maxRows)
        batch.remove(0, batch.size() - m_maxRows);
    // Make room first (one removal), then insert the batch (one insertion).
    const qsizetype overflow = m_rows.size() + batch.size() - m_maxRows;
    if (overflow > 0) {
        beginRemoveRows({}, 0, int(overflow) - 1);
        for (qsizetype i = 0; i < overflow; ++i)
            m_indexOfId.remove(m_rows.at(i).id);
        m_rows.remove(0, overflow);
        m_firstSeq += overflow;
        endRemoveRows();
    }
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(batch.size()) - 1);
    for (FrameRow &r : batch) {
        if (r.id)
            m_indexOfId.insert(r.id, int(m_firstSeq + m_rows.size()));
        m_rows.append(std::move(r));
    }
    endInsertRows();
    emit framesInserted(first, int(m_rows.size()) - 1);
}

void FrameListModel::setMaxRows(int max) {
    m_maxRows = qMax(1, max);
    if (m_rows.size() > m_maxRows) {
        const qsizetype overflow = m_rows.size() - m_maxRows;
        beginRemoveRows({}, 0, int(overflow) - 1);
        for (qsizetype i = 0; i < overflow; ++i)
            m_indexOfId.remove(m_rows.at(i).id);
        m_rows.remove(0, overflow);
        m_firstSeq += overflow;
        endRemoveRows();
    }
}

void FrameListModel::clear() {
    beginResetModel();
    m_rows.clear();
    m_pending.clear();
    m_indexOfId.clear();
    m_firstSeq = 0;
    endResetModel();
}

void FrameListModel::setDeviceNames(const QHash<QString, QString> &names) {
    m_names = names;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, Device), index(int(m_rows.size()) - 1, Device));
}

QString FrameListModel::deviceLabel(const FrameRow &row) const {
    const QString n = m_names.value(row.deviceKey);
    return n.isEmpty() ? row.deviceKey : n;
}

int FrameListModel::rowOfId(qint64 id) const {
    const auto it = m_indexOfId.constFind(id);
    if (it == m_indexOfId.cend())
        return -1;
    const qint64 row = *it - m_firstSeq;
    return (row >= 0 && row < m_rows.size()) ? int(row) : -1;
}

QList<qint64> FrameListModel::repliesOf(qint64 id) const {
    QList<qint64> out;
    const int row = rowOfId(id);
    if (row < 0)
        return out;
    // Replies follow their frame closely: look ahead a bounded window.
    for (int i = row + 1; i < m_rows.size() && i <= row + 64; ++i)
        if (m_rows.at(i).replyTo == id)
            out << m_rows.at(i).id;
    return out;
}

// ---- filter ----

FrameFilterProxy::FrameFilterProxy(QObject *parent) : QSortFilterProxyModel(parent) {}

void FrameFilterProxy::setDeviceFilter(const QString &d) { m_device = d; invalidateFilter(); }
void FrameFilterProxy::setProtocolFilter(const QString &p) { m_protocol = p; invalidateFilter(); }
void FrameFilterProxy::setTypeFilter(int t) { m_type = t; invalidateFilter(); }
void FrameFilterProxy::setDirectionFilter(int d) { m_direction = d; invalidateFilter(); }
void FrameFilterProxy::setTextFilter(const QString &t) { m_text = t.trimmed(); invalidateFilter(); }
void FrameFilterProxy::setWarningsOnly(bool on) { m_warningsOnly = on; invalidateFilter(); }

bool FrameFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &) const {
    auto *m = qobject_cast<const FrameListModel *>(sourceModel());
    if (!m || sourceRow >= m->rowCount())
        return false;
    const FrameRow &r = m->rowAt(sourceRow);
    if (!m_device.isEmpty() && r.deviceKey != m_device && m->deviceLabel(r) != m_device)
        return false;
    if (!m_protocol.isEmpty() && r.protocol != m_protocol)
        return false;
    if (m_type >= 0 && r.type != m_type)
        return false;
    if (m_direction >= 0 && (r.direction == proto::Direction::FromDevice ? 0 : 1) != m_direction)
        return false;
    if (m_warningsOnly && r.warnings.isEmpty())
        return false;
    if (!m_text.isEmpty()) {
        const Qt::CaseSensitivity cs = Qt::CaseInsensitive;
        if (!r.summary.contains(m_text, cs) && !r.typeName.contains(m_text, cs) && !r.peer.contains(m_text, cs)
            && !m->deviceLabel(r).contains(m_text, cs) && !r.deviceKey.contains(m_text, cs) && !r.warnings.join(QLatin1Char(' ')).contains(m_text, cs)) {
            QString hex = m_text;
            hex.remove(QLatin1Char(' '));
            if (hex.size() < 2 || !proto::toHex(r.bytes).contains(hex, cs))
                return false;
        }
    }
    return true;
}

} // namespace td
