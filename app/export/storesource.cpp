#include "export/storesource.h"

#include <QSet>

namespace td::exporter {

TrackDevice toTrackDevice(const store::Device &d) {
    TrackDevice t;
    t.id = d.id;
    t.key = d.imei;
    t.name = d.name;
    return t;
}

store::StoreOptions exportStoreOptions() {
    store::StoreOptions o;
    o.readOnly = true;
    o.cacheKiB = 2048;
    return o;
}

std::optional<QList<store::Device>> resolveDevices(store::Store &store, const QStringList &specs, QString *error) {
    const QList<store::Device> all = store.devices();
    if (!store.lastError().isEmpty() && all.isEmpty()) {
        *error = QStringLiteral("cannot read the devices: %1").arg(store.lastError());
        return std::nullopt;
    }
    if (specs.isEmpty())
        return all;
    QList<store::Device> out;
    QSet<qint64> seen;
    for (const QString &raw : specs) {
        const QString spec = raw.trimmed();
        if (spec.isEmpty())
            continue;
        QList<store::Device> hits;
        for (const store::Device &d : all)
            if (d.imei == spec)
                hits << d;
        if (hits.isEmpty())
            for (const store::Device &d : all)
                if (!d.name.isEmpty() && d.name.compare(spec, Qt::CaseInsensitive) == 0)
                    hits << d;
        if (hits.isEmpty() && spec.size() >= 4) {
            bool digits = true;
            for (QChar c : spec)
                digits = digits && c.isDigit();
            if (digits)
                for (const store::Device &d : all)
                    if (d.imei.endsWith(spec))
                        hits << d;
        }
        if (hits.isEmpty()) {
            QStringList known;
            for (const store::Device &d : all)
                known << (d.name.isEmpty() ? d.imei : QStringLiteral("%1 (%2)").arg(d.imei, d.name));
            *error = all.isEmpty() ? QStringLiteral("no device matches '%1': the store has no devices").arg(spec)
                                   : QStringLiteral("no device matches '%1' (known: %2)").arg(spec, known.join(QStringLiteral(", ")));
            return std::nullopt;
        }
        if (hits.size() > 1) {
            QStringList which;
            for (const store::Device &d : hits)
                which << d.imei;
            *error = QStringLiteral("'%1' matches several devices (%2): give the IMEI").arg(spec, which.join(QStringLiteral(", ")));
            return std::nullopt;
        }
        if (!seen.contains(hits.first().id)) {
            seen.insert(hits.first().id);
            out << hits.first();
        }
    }
    if (out.isEmpty()) {
        *error = QStringLiteral("no device given");
        return std::nullopt;
    }
    return out;
}

// ---- positions ----

StoreTrackSource::StoreTrackSource(store::Store &store, const QList<qint64> &deviceIds, const QDateTime &from,
                                   const QDateTime &to, const TrackOptions &options)
    : m_store(store), m_ids(deviceIds), m_from(from), m_to(to), m_filter(filterFor(options)) {}

store::PositionFilter StoreTrackSource::filterFor(const TrackOptions &options) {
    store::PositionFilter f;
    f.withCoordinatesOnly = true;
    if (!options.includeNetworkFixes) {
        f.validOnly = true;
        f.sources = {proto::PositionSource::Gps};
    }
    return f;
}

qint64 StoreTrackSource::count() {
    return m_store.countPositions(m_ids, m_from, m_to, m_filter);
}

bool StoreTrackSource::forEach(const PositionCallback &callback) {
    m_devices.clear();
    for (const store::Device &d : m_store.devices())
        m_devices.insert(d.id, toTrackDevice(d));
    TrackDevice unknown;
    return m_store.forEachPosition(m_ids, m_from, m_to, m_filter, [&](const store::StoredPosition &sp) {
        const auto it = m_devices.constFind(sp.deviceId);
        if (it == m_devices.cend()) {
            unknown.id = sp.deviceId;
            unknown.key = QString::number(sp.deviceId);
            return callback(unknown, sp.position);
        }
        return callback(it.value(), sp.position);
    });
}

// ---- frames ----

StoreFrameSource::StoreFrameSource(store::Store &store, const QList<qint64> &deviceIds, const QDateTime &from,
                                   const QDateTime &to)
    : m_store(store), m_ids(deviceIds), m_from(from), m_to(to) {}

proto::pcapng::CapturedFrame StoreFrameSource::toCaptured(const store::StoredFrame &f, const QString &deviceLabel) {
    proto::pcapng::CapturedFrame c;
    c.timeUsecs = f.time.toMSecsSinceEpoch() * 1000;
    c.direction = f.direction;
    c.peerAddress = f.peerAddress;
    c.peerPort = f.peerPort;
    c.bytes = f.bytes;
    QStringList parts;
    if (!deviceLabel.isEmpty())
        parts << deviceLabel;
    if (!f.protocol.isEmpty())
        parts << (f.type >= 0 ? QStringLiteral("%1 type 0x%2").arg(f.protocol).arg(f.type, 2, 16, QLatin1Char('0'))
                              : f.protocol);
    parts << QStringLiteral("frame #%1").arg(f.id);
    if (f.replyTo > 0)
        parts << QStringLiteral("reply to #%1").arg(f.replyTo);
    c.comment = parts.join(QStringLiteral(", "));
    return c;
}

bool StoreFrameSource::forEach(const FrameCallback &callback) {
    m_labels.clear();
    for (const store::Device &d : m_store.devices())
        m_labels.insert(d.id, d.name.isEmpty() ? d.imei : QStringLiteral("%1 (%2)").arg(d.name, d.imei));
    store::FrameFilter filter;
    filter.from = m_from;
    filter.to = m_to;
    filter.limit = 0;  // no limit: streamed
    const QSet<qint64> wanted(m_ids.cbegin(), m_ids.cend());
    if (m_ids.size() == 1)
        filter.deviceId = m_ids.first();   // the store narrows it down
    return m_store.forEachFrame(filter, [&](const store::StoredFrame &f) {
        if (!wanted.isEmpty() && !wanted.contains(f.deviceId))
            return true;
        return callback(toCaptured(f, m_labels.value(f.deviceId)));
    });
}

} // namespace td::exporter
