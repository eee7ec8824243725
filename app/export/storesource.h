// The store as a data source for the exporters: positions of some devices in a time
// range, streamed with Store::forEachPosition (one row in memory at a time), and raw
// frames with Store::forEachFrame. Also resolves the devices a user names (IMEI or name).
#pragma once

#include "export/exporter.h"
#include "store/store.h"

#include <QHash>

namespace td::exporter {

TrackDevice toTrackDevice(const store::Device &device);

// How exports open the store: read-only, with a small page cache (a streaming read visits
// each page once; a big cache would only grow the memory use with the database size).
store::StoreOptions exportStoreOptions();

// Finds the devices `specs` name: an exact IMEI / terminal id, else a name (case
// insensitive), else a unique IMEI suffix of 4+ digits. Empty `specs`: all devices.
// std::nullopt with *error set when one matches nothing or is ambiguous.
std::optional<QList<store::Device>> resolveDevices(store::Store &store, const QStringList &specs, QString *error);

class StoreTrackSource : public TrackSource {
public:
    // deviceIds empty: all devices. from/to invalid: open end (both inclusive).
    StoreTrackSource(store::Store &store, const QList<qint64> &deviceIds, const QDateTime &from,
                     const QDateTime &to, const TrackOptions &options);
    qint64 count() override;
    bool forEach(const PositionCallback &callback) override;
    QString errorString() const override { return m_store.lastError(); }

    // The store filter that matches TrackOptions (the assembler applies the full rules).
    static store::PositionFilter filterFor(const TrackOptions &options);

private:
    store::Store &m_store;
    QList<qint64> m_ids;
    QDateTime m_from, m_to;
    store::PositionFilter m_filter;
    QHash<qint64, TrackDevice> m_devices;
};

class StoreFrameSource : public FrameSource {
public:
    // Frames of the given devices (all frames when empty) with from <= time <= to.
    StoreFrameSource(store::Store &store, const QList<qint64> &deviceIds, const QDateTime &from, const QDateTime &to);
    qint64 count() override { return -1; }
    bool forEach(const FrameCallback &callback) override;
    QString errorString() const override { return m_store.lastError(); }

    static proto::pcapng::CapturedFrame toCaptured(const store::StoredFrame &frame, const QString &deviceLabel);

private:
    store::Store &m_store;
    QList<qint64> m_ids;
    QDateTime m_from, m_to;
    QHash<qint64, QString> m_labels;
};

} // namespace td::exporter
