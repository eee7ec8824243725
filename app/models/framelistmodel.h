// The inspector's live frame list. Keeps up with a busy server: frames are queued and
// inserted in batches (one beginInsertRows per flush), the number of rows is bounded
// (oldest dropped first, in batches), and a filter proxy selects by device, protocol,
// type, direction and free text. Rows carry the raw bytes; the field tree is decoded
// on demand from them (raw frames are the source of truth).
#pragma once

#include "server/trackerserver.h"
#include "store/records.h"
#include "trackerdesk/protocol/protocol.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QSortFilterProxyModel>
#include <QTimer>

namespace td {

// A row is the server's frame record (store id, reply link, direction, peer, device,
// protocol, type, summary, wire bytes, warnings).
using FrameRow = server::FrameRecord;

// Re-decodes a row's bytes with its protocol (for the field tree and hex view).
proto::DecodedFrame decodeRow(const FrameRow &row);
// A row from a stored raw frame (history): type name, summary and warnings come from
// decoding the stored bytes again with today's decoders.
FrameRow rowFromStored(const store::StoredFrame &frame, const QString &deviceKey);

class FrameListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Time, Direction, Peer, Device, Protocol, Type, Summary, Length, ColumnCount };
    enum Role { IdRole = Qt::UserRole + 1, WarningRole, ReplyToRole, DirectionRole, ProtocolRole, TypeRole, DeviceRole };

    explicit FrameListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

    // Queues frames; they appear at the next flush (batchIntervalMs) in one insertion.
    void appendFrames(const QList<FrameRow> &rows);
    void flush();                                  // inserts the queued frames now
    int pendingCount() const { return int(m_pending.size()); }
    void setBatchInterval(int ms) { m_timer.setInterval(ms); }
    void setMaxRows(int max);                      // oldest rows are dropped beyond it
    int maxRows() const { return m_maxRows; }
    void clear();

    const FrameRow &rowAt(int row) const { return m_rows.at(row); }
    int rowOfId(qint64 id) const;                  // -1 when not (or no longer) present
    // The reply frames linked to an inbound frame (ids), and the inverse link.
    QList<qint64> repliesOf(qint64 id) const;
    // Display names for device keys (IMEI -> "Minou"); rows show the key when unnamed.
    void setDeviceNames(const QHash<QString, QString> &names);
    QString deviceLabel(const FrameRow &row) const;
    const QHash<QString, QString> &deviceNames() const { return m_names; }

signals:
    void framesInserted(int first, int last);

private:
    QList<FrameRow> m_rows;
    QList<FrameRow> m_pending;
    QHash<qint64, int> m_indexOfId;  // id -> absolute sequence number
    qint64 m_firstSeq = 0;           // sequence number of m_rows[0]
    QTimer m_timer;
    int m_maxRows = 50000;
    QHash<QString, QString> m_names;
};

// Filters for the frame list. Empty / unset filters match everything.
class FrameFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit FrameFilterProxy(QObject *parent = nullptr);
    void setDeviceFilter(const QString &device);
    void setProtocolFilter(const QString &protocol);
    void setTypeFilter(int type);                  // -1: any
    void setDirectionFilter(int direction);        // -1 any, 0 in, 1 out
    void setTextFilter(const QString &text);       // summary, type name, peer, device, hex
    void setWarningsOnly(bool on);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_device, m_protocol, m_text;
    int m_type = -1, m_direction = -1;
    bool m_warningsOnly = false;
};

} // namespace td
