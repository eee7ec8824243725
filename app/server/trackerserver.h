// The tracker server: a QTcpServer per listening port; every connection is a session
// that sniffs the protocol from its first bytes (or uses the port's fixed protocol),
// cuts and decodes frames with the protocol layer, and answers with the replies the
// decoder computed -- but only after the data the frame carries is committed by the
// writer thread (StoreWriter). Sockets live on the thread that owns the server.
//
// Defences: idle timeout, total and per-address connection caps, a budget of
// undecodable bytes, a bound on unread replies, oversized frames dropped by the
// framers. Each such event is reported with the peer and the reason (logMessage).
#pragma once

#include "server/delayhistogram.h"
#include "server/serverconfig.h"
#include "server/serversockets.h"
#include "store/records.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <deque>
#include <memory>

class QTcpServer;

namespace td::store {
class StoreWriter;
}

namespace td::server {

// One frame as the inspector shows it.
struct FrameRecord {
    qint64 id = 0;                    // frames.id in the store
    qint64 replyTo = 0;               // id of the frame this one answers
    proto::Direction direction = proto::Direction::FromDevice;
    QDateTime time;                   // server time, UTC
    QString peer;                     // "address:port"
    QString deviceKey;                // IMEI / terminal id, empty before a login
    qint64 deviceId = 0;
    QString protocol;
    int type = -1;
    QString typeName;
    QString summary;
    QByteArray bytes;                 // as on the wire
    QStringList warnings;
};

// What one committed inbound (or outbound) frame brought, handed to the service.
struct CommittedFrame {
    FrameRecord frame;
    QList<FrameRecord> replies;       // sent right after the commit (only with detailed replies)
    proto::MessageKind kind = proto::MessageKind::Unknown;
    proto::PositionList positions;
    int positionsStored = 0;          // new fixes (the rest were resends)
    QList<bool> positionIsNew;        // per position: false = already stored (a resend)
    std::optional<proto::Status> status;
    QStringList alarms;
    QString text;                     // command reply text
    bool deviceCreated = false;
};

struct DeviceEntry {                  // what the server needs to know about a device
    qint64 id = 0;
    store::DeviceState state = store::DeviceState::Accepted;
    std::optional<int> timeZoneMinutes;
};

enum class LogLevel { Info, Warning, Error };

class TrackerServer : public QObject, private SocketsClient {
    Q_OBJECT
public:
    explicit TrackerServer(store::StoreWriter *writer, QObject *parent = nullptr);
    ~TrackerServer() override;

    void setConfig(const ServerConfig &config);   // limits apply at once; listeners on listen()
    const ServerConfig &config() const { return m_config; }
    bool listen(QString *error);
    // Bound addresses and ports, in the order of ServerConfig::listeners.
    QList<QPair<QHostAddress, quint16>> boundAddresses() const;
    void stopListening();
    // Stops listening, keeps the frames held for unidentified peers, closes every
    // connection after the replies of committed data were written.
    void shutdown(const QString &reason);

    // The device list (from the store) for allowlist/blocking and time zones.
    void setDevices(const QHash<QString, DeviceEntry> &devices);
    void updateDevice(const QString &imei, const DeviceEntry &entry);

    int connectionCount() const { return int(m_connections.size()); }
    bool isOnline(const QString &imei) const { return m_byDevice.contains(imei); }
    QString peerOf(const QString &imei) const;
    QString protocolOf(const QString &imei) const;
    QByteArray lastFrameOf(const QString &imei) const;   // last inbound frame (bytes field)
    qint64 framesReceived() const { return m_framesReceived; }
    qint64 bytesReceived() const { return m_bytesReceived; }
    // How long trackers waited for their acks inside the server: from the frame read off the
    // socket to its ack written back (the commit of its data in between). Network and the
    // tracker's own side are not included.
    const DelayHistogram &ackDelays() const { return m_ackDelays; }

    // Stores an outbound frame (a command) and writes it to the device's connection once
    // committed. Returns an error text, empty on success.
    QString sendToDevice(const QString &imei, const QByteArray &frame, int type, const QString &summary);

    // On while an inspector shows the frames: every inbound frame gets its summary text and
    // every reply is decoded for its summary. Off: no summaries, reply types and names from
    // a cache -- frames and replies are stored and sent the same either way.
    void setDetailedReplies(bool on) { m_detailedReplies = on; }
    // "epoll" or "qt": what carries the connections (serversockets.h).
    QString socketsName() const { return m_sockets->name(); }

signals:
    void connectionOpened(const QString &peer);
    void connectionClosed(const QString &peer, const QString &deviceKey, const QString &reason);
    void connectionCountChanged(int count);
    void deviceOnline(const QString &imei, const QString &protocol, const QString &peer);
    void deviceOffline(const QString &imei, const QString &reason);
    void deviceRefused(const QString &imei, const QString &peer, const QString &reason);
    void committed(const QList<td::server::CommittedFrame> &frames);
    void storeFailed(const QString &error);
    void logMessage(td::server::LogLevel level, const QString &text);

private:
    struct Connection;
    struct Pending;

    void onNewConnection(qintptr descriptor, const QString &fixedProtocol);
    void socketReadable(quint64 id) override;
    void socketFailed(quint64 id, const QString &why) override;
    void socketsBatchDone() override;
    qint64 readSome(Connection *c, qint64 turn);
    void queueBacklog(Connection *c);
    void serveBacklog();
    void process(Connection *c, const QByteArray &data);
    void handleFrame(Connection *c, proto::DecodedFrame &&frame);
    bool identify(Connection *c, const QString &key);
    void queueFrame(Connection *c, const proto::DecodedFrame &f, bool attribute, bool sendReplies, qint64 timeMs);
    void queueEvent(Connection *c, const QString &kind, const QString &detail);
    void flushHeld(Connection *c, bool attribute);
    void submitOutbox();
    void describeReply(const proto::Protocol *protocol, const QByteArray &reply, FrameRecord *r);
    void closeConnection(Connection *c, const QString &reason, bool graceful, LogLevel level = LogLevel::Info);
    void onCommitted(const QList<store::WorkResult> &results);
    void onFailed(const QString &error, const QList<store::WorkResult> &results);
    void sweep();
    void log(LogLevel level, const QString &text) { emit logMessage(level, text); }

    store::StoreWriter *m_writer;
    ServerConfig m_config;
    QList<QTcpServer *> m_servers;
    std::unique_ptr<ServerSockets> m_sockets;  // the accepted connections
    std::unique_ptr<char[]> m_readBuffer;
    QHash<quint64, Connection *> m_connections;
    QList<Connection *> m_closed;      // closed, deleted on the next event-loop turn
    QHash<QString, Connection *> m_byDevice;
    QHash<QString, int> m_perIp;
    QHash<QString, DeviceEntry> m_devices;
    std::deque<Pending> m_pending;     // submitted, not yet committed, in submission order
    QList<store::WorkItem> m_outbox;   // queued for the writer, submitted by submitOutbox()
    QTimer m_sweepTimer;
    QTimer m_backlogTimer;             // serves connections with unread bytes, round robin
    QList<quint64> m_backlog;
    QElapsedTimer m_clock;
    quint64 m_nextConnectionId = 1;
    quint64 m_nextTicket = 1;
    qint64 m_framesReceived = 0;
    qint64 m_bytesReceived = 0;
    DelayHistogram m_ackDelays;
    int m_refusedSinceLog = 0;
    bool m_shuttingDown = false;
    bool m_detailedReplies = true;
    using ReplyKey = QPair<const proto::Protocol *, quint64>;   // protocol, reply's first bytes
    QHash<ReplyKey, QPair<int, QString>> m_replyTypes;  // -> type, name
};

} // namespace td::server

Q_DECLARE_METATYPE(td::server::CommittedFrame)
Q_DECLARE_METATYPE(td::server::FrameRecord)
