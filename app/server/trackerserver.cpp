#include "server/trackerserver.h"

#include "store/writer.h"

#include "trackerdesk/protocol/protocol.h"

#include <QCoreApplication>
#include <QTcpServer>
#include <QTimeZone>

#include <functional>

namespace td::server {

struct TrackerServer::Connection {
    quint64 id = 0;                   // also its name in m_sockets
    QString address;                  // peer address (IPv4 when mapped)
    quint16 port = 0;
    QString peer;                     // "address:port"
    QString fixedProtocol;
    const proto::Protocol *protocol = nullptr;
    std::unique_ptr<proto::ProtocolSession> session;
    QByteArray head;                  // bytes kept while sniffing the protocol
    QString deviceKey;                // identified device (IMEI / terminal id)
    qint64 lastFrameMs = 0;           // m_clock time of the last complete frame
    qint64 garbage = 0;               // undecodable bytes so far
    int brokenFrames = 0;             // broken frames before a login (counted as garbage)
    QList<proto::DecodedFrame> held;  // frames before the login
    QList<qint64> heldTimes;
    int heldDropped = 0;
    QByteArray lastFrame;
    bool closing = false;
    bool offlineRecorded = false;
};

struct TrackerServer::Pending {
    quint64 ticket = 0;
    quint64 connectionId = 0;
    proto::Replies writes;            // written to the connection once committed
    bool publish = false;
    qint64 readNs = -1;               // m_clock when the frame was read (acks of inbound frames)
    CommittedFrame info;
};

namespace {
constexpr int kReadChunk = 64 * 1024;   // bytes read per turn from a logged-in tracker
constexpr int kFeedSlice = 4096;        // bytes handed to the framer at a time
constexpr int kUnidentifiedSlice = 1024;       // bytes per connection and turn before a login
constexpr int kBacklogTurnBudget = 4 * 1024;  // bytes per event-loop turn for all of them
constexpr int kMaxSniffBytes = 4096;  // undecided this long: not a protocol we know

// How the server decodes: no field tree (it keeps the raw bytes; the inspector re-decodes)
// and no summary text (made in queueFrame only while someone shows the frames).
proto::SessionOptions liveOptions() {
    proto::SessionOptions o;
    o.annotate = false;
    o.summarize = false;
    return o;
}

// A listening port: hands every accepted descriptor to the server (its ServerSockets
// take it over), instead of wrapping it in a QTcpSocket of its own.
class Listener final : public QTcpServer {
public:
    Listener(QObject *parent, std::function<void(qintptr)> accepted) : QTcpServer(parent), m_accepted(std::move(accepted)) {}

protected:
    void incomingConnection(qintptr descriptor) override { m_accepted(descriptor); }

private:
    std::function<void(qintptr)> m_accepted;
};

QString normalisedAddress(const QHostAddress &a) {
    bool ok = false;
    const quint32 v4 = a.toIPv4Address(&ok);
    return ok ? QHostAddress(v4).toString() : a.toString();
}
} // namespace

TrackerServer::TrackerServer(store::StoreWriter *writer, QObject *parent) : QObject(parent), m_writer(writer) {
    qRegisterMetaType<td::server::CommittedFrame>();
    qRegisterMetaType<QList<td::server::CommittedFrame>>();
    qRegisterMetaType<td::server::LogLevel>();
    m_clock.start();
    QString note;
    m_sockets = makeServerSockets(this, &note);
    if (!note.isEmpty())
        QTimer::singleShot(0, this, [this, note] { log(LogLevel::Warning, note); });
    m_readBuffer.reset(new char[kFeedSlice]);
    connect(m_writer, &store::StoreWriter::committed, this, &TrackerServer::onCommitted);
    connect(m_writer, &store::StoreWriter::failed, this, &TrackerServer::onFailed);
    connect(&m_sweepTimer, &QTimer::timeout, this, &TrackerServer::sweep);
    connect(&m_backlogTimer, &QTimer::timeout, this, &TrackerServer::serveBacklog);
    setConfig(m_config);
}

TrackerServer::~TrackerServer() {
    stopListening();
    m_sockets.reset();   // closes every connection
    qDeleteAll(m_connections);
    m_connections.clear();
    qDeleteAll(std::exchange(m_closed, {}));
}

void TrackerServer::setConfig(const ServerConfig &config) {
    m_config = config;
    // Check often enough that an idle peer is closed within ~25 % of the timeout.
    m_sweepTimer.start(qBound(100, config.idleTimeoutSec * 250, 5000));
}

bool TrackerServer::listen(QString *error) {
    stopListening();
    m_shuttingDown = false;
    for (const ListenSpec &spec : std::as_const(m_config.listeners)) {
        if (!spec.protocol.isEmpty() && !proto::protocolById(spec.protocol)) {
            if (error)
                *error = QStringLiteral("port %1: unknown protocol '%2'").arg(spec.port).arg(spec.protocol);
            stopListening();
            return false;
        }
        const QString fixed = spec.protocol;
        auto *s = new Listener(this, [this, fixed](qintptr descriptor) { onNewConnection(descriptor, fixed); });
        s->setListenBacklogSize(4096);
        if (!s->listen(spec.address, spec.port)) {
            if (error && s->serverError() == QAbstractSocket::AddressInUseError)
                *error = QStringLiteral("port %1 is already in use by another program (address %2); stop that program "
                                        "or choose another port (Settings, or --port)").arg(spec.port).arg(spec.address.toString());
            else if (error && s->serverError() == QAbstractSocket::SocketAccessError)
                *error = QStringLiteral("not allowed to listen on port %1 (address %2): ports below 1024 need "
                                        "administrator rights; choose a port from 1024 up").arg(spec.port).arg(spec.address.toString());
            else if (error)
                *error = QStringLiteral("cannot listen on %1 port %2: %3")
                             .arg(spec.address.toString()).arg(spec.port).arg(s->errorString());
            delete s;
            stopListening();
            return false;
        }
        m_servers << s;
    }
    return true;
}

QList<QPair<QHostAddress, quint16>> TrackerServer::boundAddresses() const {
    QList<QPair<QHostAddress, quint16>> out;
    for (const QTcpServer *s : m_servers)
        out.append({s->serverAddress(), s->serverPort()});
    return out;
}

void TrackerServer::stopListening() {
    for (QTcpServer *s : std::as_const(m_servers)) {
        s->close();
        s->deleteLater();
    }
    m_servers.clear();
}

void TrackerServer::setDevices(const QHash<QString, DeviceEntry> &devices) { m_devices = devices; }

void TrackerServer::updateDevice(const QString &imei, const DeviceEntry &entry) {
    m_devices.insert(imei, entry);
    Connection *c = m_byDevice.value(imei);
    if (!c)
        return;
    if (entry.state == store::DeviceState::Blocked) {
        emit deviceRefused(imei, c->peer, QStringLiteral("device blocked"));
        closeConnection(c, QStringLiteral("device %1 was blocked").arg(imei), false, LogLevel::Warning);
        return;
    }
    if (c->session) {
        proto::SessionOptions o = liveOptions();
        o.strictChecksum = m_config.strictChecksum;
        o.timeZoneMinutes = entry.timeZoneMinutes;
        c->session->setOptions(o);
    }
}

QString TrackerServer::peerOf(const QString &imei) const {
    const Connection *c = m_byDevice.value(imei);
    return c ? c->peer : QString();
}

QString TrackerServer::protocolOf(const QString &imei) const {
    const Connection *c = m_byDevice.value(imei);
    return c && c->protocol ? c->protocol->id() : QString();
}

QByteArray TrackerServer::lastFrameOf(const QString &imei) const {
    const Connection *c = m_byDevice.value(imei);
    return c ? c->lastFrame : QByteArray();
}

// ---------------------------------------------------------------------------------------
// connections

void TrackerServer::onNewConnection(qintptr descriptor, const QString &fixedProtocol) {
    const quint64 id = m_nextConnectionId++;
    QHostAddress peerAddress;
    quint16 port = 0;
    QString error;
    if (!m_sockets->adopt(id, descriptor, &peerAddress, &port, &error)) {
        log(LogLevel::Warning, QStringLiteral("cannot take an incoming connection: %1").arg(error));
        return;
    }
    const QString address = normalisedAddress(peerAddress);
    QString refusal;
    if (m_shuttingDown)
        refusal = QStringLiteral("server shutting down");
    else if (m_connections.size() >= m_config.maxConnections)
        refusal = QStringLiteral("connection limit reached (%1 connections)").arg(m_config.maxConnections);
    else if (m_perIp.value(address) >= m_config.maxConnectionsPerIp)
        refusal = QStringLiteral("too many connections from this address (limit %1)").arg(m_config.maxConnectionsPerIp);
    if (!refusal.isEmpty()) {
        log(LogLevel::Warning, QStringLiteral("%1:%2 refused: %3").arg(address).arg(port).arg(refusal));
        m_sockets->close(id, false);
        return;
    }
    auto *c = new Connection;
    c->id = id;
    c->address = address;
    c->port = port;
    c->peer = QStringLiteral("%1:%2").arg(address).arg(port);
    c->fixedProtocol = fixedProtocol;
    c->lastFrameMs = m_clock.elapsed();
    ++m_perIp[address];
    m_connections.insert(c->id, c);
    emit connectionOpened(c->peer);
    emit connectionCountChanged(int(m_connections.size()));
}

void TrackerServer::socketReadable(quint64 id) {
    Connection *c = m_connections.value(id);
    if (!c || c->closing)
        return;
    if (c->deviceKey.isEmpty()) {
        // Not logged in yet: served from the backlog under a per-turn budget.
        queueBacklog(c);
        return;
    }
    readSome(c, kReadChunk);
}

void TrackerServer::socketsBatchDone() { submitOutbox(); }

void TrackerServer::socketFailed(quint64 id, const QString &why) {
    if (Connection *c = m_connections.value(id))
        closeConnection(c, why, false, why == QLatin1String("closed by the peer") ? LogLevel::Info : LogLevel::Warning);
}

// Reads and processes up to `turn` bytes of a connection. Returns the bytes consumed.
// What is left for later puts the connection in the backlog (its reading paused until
// the backlog has drained it).
qint64 TrackerServer::readSome(Connection *c, qint64 turn) {
    qint64 used = 0;
    bool more = false;
    while (!c->closing && used < turn) {
        const qsizetype want = qMin<qint64>(kFeedSlice, turn - used);
        QString error;
        const qsizetype n = m_sockets->read(c->id, m_readBuffer.get(), want, &error);
        if (n == ServerSockets::Closed) {
            closeConnection(c, QStringLiteral("closed by the peer"), false);
            return used;
        }
        if (n == ServerSockets::Error) {
            closeConnection(c, QStringLiteral("socket error: %1").arg(error), false, LogLevel::Warning);
            return used;
        }
        if (n <= 0)
            break;
        used += n;
        m_bytesReceived += n;
        process(c, QByteArray(m_readBuffer.get(), n));
        more = n == want;
        if (!more)
            break;   // less than asked for: nothing more for now (no read just to hear so)
    }
    if (!c->closing && more && used >= turn)
        queueBacklog(c);
    return used;
}

void TrackerServer::queueBacklog(Connection *c) {
    if (!m_backlog.contains(c->id)) {
        m_backlog.append(c->id);
        m_sockets->pauseReading(c->id, true);
    }
    if (!m_backlogTimer.isActive())
        m_backlogTimer.start(0);
}

// Connections that have not logged in share a fixed budget per event-loop turn, round
// robin, a small slice each. However many junk connections there are, one turn of the
// event loop does bounded work for them, so the acks of logged-in trackers (served
// directly in socketReadable) are not held up behind a flood.
void TrackerServer::serveBacklog() {
    qint64 budget = kBacklogTurnBudget;
    while (budget > 0 && !m_backlog.isEmpty()) {
        const quint64 id = m_backlog.takeFirst();
        Connection *c = m_connections.value(id);
        if (!c || c->closing)
            continue;
        budget -= readSome(c, c->deviceKey.isEmpty() ? kUnidentifiedSlice : kReadChunk);
        // Drained (not queued again at the end): reported by the sockets again.
        if (!c->closing && (m_backlog.isEmpty() || m_backlog.last() != id))
            m_sockets->pauseReading(id, false);
        if (budget <= 0)
            break;
    }
    submitOutbox();
    if (m_backlog.isEmpty())
        m_backlogTimer.stop();
}

void TrackerServer::submitOutbox() {
    // Work items and their m_pending entries are appended in the same order, so results
    // (which come back in submission order) find their entry at the front of m_pending.
    if (m_outbox.isEmpty())
        return;
    const qsizetype n = m_outbox.size();
    m_writer->submit(std::exchange(m_outbox, {}));
    // The next batch is likely as big: room for it at once (a WorkItem is large to move
    // each time the list grows).
    m_outbox.reserve(qMin<qsizetype>(n, 1024));
}

void TrackerServer::process(Connection *c, const QByteArray &data) {
    QList<proto::StreamEvent> events;
    if (!c->session) {
        c->head += data;
        if (!c->fixedProtocol.isEmpty()) {
            c->protocol = proto::protocolById(c->fixedProtocol);
        } else {
            // Sniff; skip bytes no protocol can start with (scanners, TLS hellos, noise).
            qsizetype skip = 0;
            bool more = false;
            const proto::Protocol *p = nullptr;
            const qint64 budget = m_config.garbageBudgetBytes > 0 ? m_config.garbageBudgetBytes : kMaxSniffBytes;
            while (skip < c->head.size() && c->garbage + skip <= budget) {
                p = proto::sniffProtocol(QByteArray::fromRawData(c->head.constData() + skip, c->head.size() - skip), &more);
                if (p || more)
                    break;
                ++skip;
            }
            if (skip > 0) {
                c->garbage += skip;
                c->head.remove(0, skip);
            }
            if (!p) {
                if (m_config.garbageBudgetBytes > 0 && c->garbage > m_config.garbageBudgetBytes)
                    closeConnection(c, QStringLiteral("no known protocol: %1 undecodable bytes (budget %2)")
                                           .arg(c->garbage).arg(m_config.garbageBudgetBytes), false, LogLevel::Warning);
                else if (c->head.size() > kMaxSniffBytes)
                    closeConnection(c, QStringLiteral("no known protocol after %1 bytes").arg(c->head.size()), false,
                                    LogLevel::Warning);
                return;
            }
            c->protocol = p;
        }
        proto::SessionOptions o = liveOptions();
        o.strictChecksum = m_config.strictChecksum;
        c->session = c->protocol->createSession(o);
        QByteArray head;
        head.swap(c->head);
        events = c->session->feed(head);
    } else {
        events = c->session->feed(data);
    }
    for (proto::StreamEvent &ev : events) {
        if (c->closing)
            break;
        switch (ev.kind) {
        case proto::StreamEvent::Frame:
            if (c->deviceKey.isEmpty() && !ev.frame.ok()) {
                // Before a login a broken frame (bad checksum, impossible length) is what
                // noise looks like once it happens to contain a start byte: undecodable.
                c->garbage += ev.frame.wireBytes().size();
                ++c->brokenFrames;
                break;
            }
            handleFrame(c, std::move(ev.frame));
            break;
        case proto::StreamEvent::Garbage:
            c->garbage += ev.bytes.size();
            break;
        case proto::StreamEvent::Dropped:
            c->garbage += ev.bytes.size();
            log(LogLevel::Warning, QStringLiteral("%1 (%2): frame dropped: %3 (%4 bytes)")
                                       .arg(c->peer, c->deviceKey.isEmpty() ? QStringLiteral("no login yet") : c->deviceKey,
                                            ev.reason).arg(ev.bytes.size()));
            break;
        }
    }
    if (!c->closing && m_config.garbageBudgetBytes > 0 && c->garbage > m_config.garbageBudgetBytes)
        closeConnection(c, QStringLiteral("too many undecodable bytes: %1 (budget %2%3)").arg(c->garbage).arg(m_config.garbageBudgetBytes)
                               .arg(c->brokenFrames ? QStringLiteral(", %1 broken frames").arg(c->brokenFrames) : QString()),
                        false, LogLevel::Warning);
}

void TrackerServer::handleFrame(Connection *c, proto::DecodedFrame &&frame) {
    ++m_framesReceived;
    c->lastFrameMs = m_clock.elapsed();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // A device is identified only by a clean frame: noise that happens to pass for a
    // frame (bad checksum) must not create devices.
    const QString id = frame.ok() ? frame.message.deviceId : QString();
    if (!id.isEmpty() && id != c->deviceKey) {
        if (!c->deviceKey.isEmpty())
            log(LogLevel::Warning, QStringLiteral("%1: device id changed from %2 to %3 on one connection").arg(c->peer, c->deviceKey, id));
        if (!identify(c, id))
            return;
        // The device's own time-zone setting applies to this frame too.
        const std::optional<int> tz = m_devices.value(id).timeZoneMinutes;
        if (tz && !frame.message.positions.isEmpty()) {
            proto::SessionOptions o = liveOptions();
            o.timeZoneMinutes = tz;
            frame = c->protocol->decodeFrame(frame.wireBytes(), o);
        }
    }
    if (c->deviceKey.isEmpty()) {
        // Before a login: kept (and stored once the device is known), never acknowledged.
        if (c->held.size() < m_config.maxHeldFrames) {
            c->held.append(std::move(frame));
            c->heldTimes.append(now);
        } else if (m_config.acceptUnknownDevices) {
            queueFrame(c, frame, false, false, now);
        } else if (c->heldDropped++ == 0) {
            log(LogLevel::Warning, QStringLiteral("%1: frames without a login are discarded (allowlist mode)").arg(c->peer));
        }
        return;
    }
    // A frame that should carry a fix but whose fix could not be decoded is stored (the raw
    // bytes, for a better decoder) but not acknowledged: an ack would make the device drop
    // data we do not have. The device sends it again.
    const proto::MessageKind k = frame.message.kind;
    const bool dataLost = !frame.ok() && frame.message.positions.isEmpty() && !frame.replies.isEmpty()
                          && (k == proto::MessageKind::Position || k == proto::MessageKind::Alarm || k == proto::MessageKind::Lbs);
    if (dataLost)
        log(LogLevel::Warning, QStringLiteral("%1 %2: %3 frame not acknowledged, its fix could not be decoded: %4")
                                   .arg(c->peer, c->deviceKey, frame.typeName, frame.warnings.join(QStringLiteral("; "))));
    queueFrame(c, frame, true, !dataLost, now);
}

bool TrackerServer::identify(Connection *c, const QString &key) {
    const auto it = m_devices.constFind(key);
    QString refusal;
    if (it != m_devices.constEnd() && it->state == store::DeviceState::Blocked)
        refusal = QStringLiteral("device is blocked");
    else if (it == m_devices.constEnd() && !m_config.acceptUnknownDevices)
        refusal = QStringLiteral("not in the device list (unknown devices are refused)");
    if (!refusal.isEmpty()) {
        c->held.clear();
        c->heldTimes.clear();
        emit deviceRefused(key, c->peer, refusal);
        closeConnection(c, QStringLiteral("refused device %1: %2").arg(key, refusal), false, LogLevel::Warning);
        return false;
    }
    if (!c->deviceKey.isEmpty() && m_byDevice.value(c->deviceKey) == c) {
        m_byDevice.remove(c->deviceKey);
        emit deviceOffline(c->deviceKey, QStringLiteral("connection taken over by %1").arg(key));
    }
    c->deviceKey = key;
    c->offlineRecorded = false;
    if (it != m_devices.constEnd() && it->timeZoneMinutes) {
        proto::SessionOptions o = liveOptions();
        o.strictChecksum = m_config.strictChecksum;
        o.timeZoneMinutes = it->timeZoneMinutes;
        c->session->setOptions(o);
    }
    if (Connection *old = m_byDevice.value(key); old && old != c)
        closeConnection(old, QStringLiteral("replaced by a new connection from %1").arg(c->peer), true);
    m_byDevice.insert(key, c);
    emit deviceOnline(key, c->protocol->id(), c->peer);
    queueEvent(c, QStringLiteral("online"), c->peer);
    flushHeld(c, true);
    return true;
}

void TrackerServer::queueFrame(Connection *c, const proto::DecodedFrame &f, bool attribute, bool sendReplies,
                               qint64 timeMs) {
    const proto::Message &m = f.message;
    store::WorkItem w;
    w.kind = store::WorkItem::Inbound;
    w.ticket = m_nextTicket++;
    w.serverTimeMs = timeMs;
    w.deviceKey = attribute ? c->deviceKey : QString();
    w.storeData = attribute;
    w.peerAddress = c->address;
    w.peerPort = c->port;
    w.protocol = f.protocol.isEmpty() ? c->protocol->id() : f.protocol;
    w.type = f.type;
    w.bytes = f.wireBytes();
    w.model = m.model;
    w.loginTimeZone = m.timeZoneMinutes;
    w.messageKind = m.kind;
    w.positions = m.positions;
    w.status = m.status;
    w.alarms = m.alarms;
    if (m.kind == proto::MessageKind::CommandReply && !m.text.isEmpty()) {
        w.eventKind = QStringLiteral("command-reply");
        w.eventDetail = m.text;
    }

    Pending p;
    p.ticket = w.ticket;
    p.connectionId = c->id;
    p.publish = true;
    CommittedFrame &info = p.info;
    FrameRecord &r = info.frame;
    r.direction = proto::Direction::FromDevice;
    r.time = QDateTime::fromMSecsSinceEpoch(timeMs, QTimeZone::UTC);
    r.peer = c->peer;
    r.deviceKey = w.deviceKey;
    r.protocol = w.protocol;
    r.type = f.type;
    r.typeName = f.typeName;
    if (m_detailedReplies)   // the summary is for frame lists only: made when one is shown
        r.summary = c->protocol->summary(f);
    r.bytes = w.bytes;
    r.warnings = f.warnings;
    info.kind = m.kind;
    info.positions = m.positions;
    info.status = m.status;
    info.alarms = m.alarms;
    info.text = m.text;
    if (sendReplies && !f.replies.isEmpty()) {
        w.replies = f.replies;   // shared, not copied
        w.replyTypes.reserve(f.replies.size());
        for (const QByteArray &reply : f.replies) {
            FrameRecord rr;
            rr.direction = proto::Direction::ToDevice;
            rr.time = r.time;
            rr.peer = c->peer;
            rr.deviceKey = w.deviceKey;
            rr.protocol = w.protocol;
            rr.bytes = reply;
            describeReply(c->protocol, reply, &rr);
            w.replyTypes.append(rr.type);
            if (m_detailedReplies)  // records of the replies only for an inspector
                info.replies.append(std::move(rr));
        }
        p.writes = f.replies;
        p.readNs = m_clock.nsecsElapsed();
    }
    c->lastFrame = f.bytes;
    m_outbox.append(std::move(w));
    m_pending.push_back(std::move(p));
}

// Type, name and summary of a reply for the store and the inspector. Decoding every ack
// again costs as much as decoding the frame it answers; unless someone shows the replies
// in detail, the type and name come from a small cache keyed by the reply's first bytes
// (header and message type in every protocol we speak), the summary stays empty.
void TrackerServer::describeReply(const proto::Protocol *protocol, const QByteArray &reply, FrameRecord *r) {
    // The protocol and up to 5 first bytes with their count, without an allocation per ack.
    quint64 prefix = quint64(qMin<qsizetype>(reply.size(), 5)) << 40;
    for (qsizetype i = 0; i < qMin<qsizetype>(reply.size(), 5); ++i)
        prefix |= quint64(uchar(reply[i])) << (8 * (4 - i));
    const ReplyKey key{protocol, prefix};
    if (!m_detailedReplies) {
        const auto it = m_replyTypes.constFind(key);
        if (it != m_replyTypes.constEnd()) {
            r->type = it->first;
            r->typeName = it->second;
            return;
        }
    }
    proto::SessionOptions o;
    o.direction = proto::Direction::ToDevice;
    const proto::DecodedFrame d = protocol->decodeFrame(reply, o);
    r->type = d.type;
    r->typeName = d.typeName;
    r->summary = d.summary;
    r->warnings = d.warnings;
    if (d.ok() && m_replyTypes.size() < 4096)
        m_replyTypes.insert(key, {d.type, d.typeName});
}

void TrackerServer::queueEvent(Connection *c, const QString &kind, const QString &detail) {
    store::WorkItem w;
    w.kind = store::WorkItem::DeviceEvent;
    w.ticket = m_nextTicket++;
    w.serverTimeMs = QDateTime::currentMSecsSinceEpoch();
    w.deviceKey = c->deviceKey;
    w.peerAddress = c->address;
    w.peerPort = c->port;
    w.protocol = c->protocol ? c->protocol->id() : QString();
    w.eventKind = kind;
    w.eventDetail = detail;
    Pending p;
    p.ticket = w.ticket;
    p.connectionId = c->id;
    p.info.frame.deviceKey = c->deviceKey;
    m_outbox.append(std::move(w));
    m_pending.push_back(std::move(p));
}

void TrackerServer::flushHeld(Connection *c, bool attribute) {
    for (int i = 0; i < c->held.size(); ++i)
        queueFrame(c, c->held[i], attribute, false, c->heldTimes.value(i));
    c->held.clear();
    c->heldTimes.clear();
}

void TrackerServer::closeConnection(Connection *c, const QString &reason, bool graceful, LogLevel level) {
    if (c->closing)
        return;
    c->closing = true;
    if (!c->held.isEmpty()) {
        if (m_config.acceptUnknownDevices && !m_shuttingDown) {
            flushHeld(c, false);  // kept, shown, never attributed
        } else if (!m_shuttingDown) {
            log(LogLevel::Warning, QStringLiteral("%1: %2 frames without a login discarded (allowlist mode)").arg(c->peer).arg(c->held.size()));
            c->held.clear();
        }
    }
    if (!c->deviceKey.isEmpty() && m_byDevice.value(c->deviceKey) == c) {
        m_byDevice.remove(c->deviceKey);
        if (!c->offlineRecorded && !m_shuttingDown)
            queueEvent(c, QStringLiteral("offline"), reason);
        emit deviceOffline(c->deviceKey, reason);
    }
    if (!m_shuttingDown)
        submitOutbox();
    m_connections.remove(c->id);
    auto ip = m_perIp.find(c->address);
    if (ip != m_perIp.end() && --ip.value() <= 0)
        m_perIp.erase(ip);
    if (level != LogLevel::Info)
        log(level, QStringLiteral("%1%2: closed: %3").arg(c->peer, c->deviceKey.isEmpty() ? QString() : QLatin1Char(' ') + c->deviceKey, reason));
    emit connectionClosed(c->peer, c->deviceKey, reason);
    emit connectionCountChanged(int(m_connections.size()));

    m_sockets->close(c->id, graceful);  // graceful: the replies already written still go out
    // Deleted on the next event-loop turn: a caller up the stack may still use it.
    if (m_closed.isEmpty())
        QTimer::singleShot(0, this, [this] { qDeleteAll(std::exchange(m_closed, {})); });
    m_closed << c;
}

void TrackerServer::sweep() {
    const qint64 now = m_clock.elapsed();
    const qint64 limit = qint64(m_config.idleTimeoutSec) * 1000;
    QList<Connection *> idle;
    for (Connection *c : std::as_const(m_connections))
        if (now - c->lastFrameMs > limit)
            idle << c;
    for (Connection *c : std::as_const(idle))
        closeConnection(c, QStringLiteral("idle timeout: no frame for %1 s").arg(m_config.idleTimeoutSec), false, LogLevel::Warning);
}

// ---------------------------------------------------------------------------------------
// commits

void TrackerServer::onCommitted(const QList<store::WorkResult> &results) {
    QList<CommittedFrame> out;
    out.reserve(results.size());
    QList<quint64> written;   // connections with replies queued, in order (repeats possible)
    for (const store::WorkResult &r : results) {
        if (m_pending.empty() || m_pending.front().ticket != r.ticket) {
            log(LogLevel::Error, QStringLiteral("internal error: commit result %1 does not match the pending frame").arg(r.ticket));
            continue;
        }
        Pending p = std::move(m_pending.front());
        m_pending.pop_front();
        if (r.deviceCreated && !p.info.frame.deviceKey.isEmpty() && !m_devices.contains(p.info.frame.deviceKey))
            m_devices.insert(p.info.frame.deviceKey, DeviceEntry{r.deviceId, store::DeviceState::Accepted, std::nullopt});
        if (!p.writes.isEmpty()) {
            Connection *c = m_connections.value(p.connectionId);
            if (c && !c->closing) {
                m_sockets->write(c->id, p.writes.bytes());   // all replies in one write
                if (p.readNs >= 0)
                    m_ackDelays.record(m_clock.nsecsElapsed() - p.readNs);
                written.append(c->id);
            }
        }
        if (!p.publish)
            continue;
        CommittedFrame &info = p.info;
        info.frame.id = r.frameId;
        info.frame.deviceId = r.deviceId;
        info.positionsStored = r.positionsStored;
        info.positionIsNew = r.positionIsNew;
        info.deviceCreated = r.deviceCreated;
        for (int i = 0; i < info.replies.size(); ++i) {
            info.replies[i].id = r.replyIds.value(i);
            info.replies[i].replyTo = r.frameId;
            info.replies[i].deviceId = r.deviceId;
        }
        out.append(std::move(info));
    }
    // One write per connection for all its replies of this commit.
    m_sockets->flush();
    for (quint64 id : std::as_const(written)) {
        Connection *c = m_connections.value(id);
        if (!c || c->closing)
            continue;
        const qint64 pending = m_sockets->bytesToWrite(id);
        if (pending > m_config.maxPendingWriteBytes)
            closeConnection(c, QStringLiteral("peer does not read its replies (%1 bytes pending)").arg(pending), false, LogLevel::Warning);
    }
    if (!out.isEmpty())
        emit committed(out);
}

void TrackerServer::onFailed(const QString &error, const QList<store::WorkResult> &results) {
    QList<quint64> affected;
    for (const store::WorkResult &r : results) {
        if (m_pending.empty() || m_pending.front().ticket != r.ticket)
            continue;
        const quint64 conn = m_pending.front().connectionId;
        if (!affected.contains(conn))
            affected << conn;
        m_pending.pop_front();
    }
    log(LogLevel::Error, QStringLiteral("store failed, %1 frames not acknowledged: %2").arg(results.size()).arg(error));
    emit storeFailed(error);
    for (quint64 id : std::as_const(affected))
        if (Connection *c = m_connections.value(id))
            closeConnection(c, QStringLiteral("not acknowledged, the store failed: %1").arg(error), false, LogLevel::Error);
}

// ---------------------------------------------------------------------------------------
// commands and shutdown

QString TrackerServer::sendToDevice(const QString &imei, const QByteArray &frame, int type, const QString &summary) {
    Connection *c = m_byDevice.value(imei);
    if (!c || c->closing)
        return QStringLiteral("device %1 is not connected").arg(imei);
    if (frame.isEmpty())
        return QStringLiteral("nothing to send");
    if (m_shuttingDown || !m_writer->isRunning())
        return QStringLiteral("the server is shutting down");
    store::WorkItem w;
    w.kind = store::WorkItem::Outbound;
    w.ticket = m_nextTicket++;
    w.serverTimeMs = QDateTime::currentMSecsSinceEpoch();
    w.deviceKey = imei;
    w.peerAddress = c->address;
    w.peerPort = c->port;
    w.protocol = c->protocol->id();
    w.type = type;
    w.bytes = frame;
    w.eventKind = QStringLiteral("command");
    w.eventDetail = summary;
    Pending p;
    p.ticket = w.ticket;
    p.connectionId = c->id;
    p.writes = {frame};
    p.publish = true;
    FrameRecord &r = p.info.frame;
    r.direction = proto::Direction::ToDevice;
    r.time = QDateTime::fromMSecsSinceEpoch(w.serverTimeMs, QTimeZone::UTC);
    r.peer = c->peer;
    r.deviceKey = imei;
    r.protocol = w.protocol;
    r.type = type;
    proto::SessionOptions o = liveOptions();
    o.direction = proto::Direction::ToDevice;
    const proto::DecodedFrame d = c->protocol->decodeFrame(frame, o);
    r.typeName = d.typeName;
    r.summary = summary.isEmpty() ? c->protocol->summary(d) : summary;
    r.bytes = frame;
    r.warnings = d.warnings;
    p.info.kind = proto::MessageKind::Downlink;
    m_pending.push_back(std::move(p));
    m_outbox.append(std::move(w));
    submitOutbox();
    return {};
}

void TrackerServer::shutdown(const QString &reason) {
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    stopListening();
    m_sweepTimer.stop();
    // Record what is still in memory: frames held for unidentified peers, offline events.
    for (Connection *c : std::as_const(m_connections)) {
        if (!c->held.isEmpty() && m_config.acceptUnknownDevices)
            flushHeld(c, false);
        if (!c->deviceKey.isEmpty() && m_byDevice.value(c->deviceKey) == c) {
            queueEvent(c, QStringLiteral("offline"), reason);
            c->offlineRecorded = true;
        }
    }
    if (m_writer->isRunning()) {
        submitOutbox();
        m_writer->stop();  // commits everything pending
        // Deliver the last results so their acks are written before the sockets close.
        QCoreApplication::sendPostedEvents(this, QEvent::MetaCall);
    }
    const auto conns = m_connections.values();
    for (Connection *c : conns)
        closeConnection(c, reason, true);
}

} // namespace td::server
