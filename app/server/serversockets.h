// The accepted connections of the tracker server, behind one small interface with two
// implementations (as the simulator's transports, app/sim/transport.h):
//  - epoll (Linux, the default): raw non-blocking sockets in one epoll instance; Qt's event
//    loop watches only the epoll descriptor. With a thousand trackers this saves, at every
//    turn of the event loop, the poll() over every socket, QTcpSocket's buffering (a copy
//    in, a copy out, an FIONREAD per read) and the extra turn it takes to write an ack;
//    and an idle connection costs a few dozen bytes instead of a QTcpSocket.
//  - Qt: one QTcpSocket per connection (portable; TRACKERDESK_SERVER_SOCKETS=qt selects it).
// Connections are named by the server's connection id. The listening sockets stay
// QTcpServers (TrackerServer hands each accepted descriptor to adopt()).
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QString>
#include <QtGlobal>

#include <memory>

class QObject;

namespace td::server {

class SocketsClient {
public:
    // `id` may have bytes to read (read() says how many). With reading paused nothing is
    // reported for it.
    virtual void socketReadable(quint64 id) = 0;
    // Sending to `id` failed (the peer reset the connection, ...). The sockets have
    // forgotten it already. Reported from the event loop, never from inside a call.
    virtual void socketFailed(quint64 id, const QString &why) = 0;
    // The end of one batch of socketReadable() calls (one activation of the event loop):
    // the place to hand what was read to the store in one go.
    virtual void socketsBatchDone() = 0;

protected:
    ~SocketsClient() = default;
};

class ServerSockets {
public:
    virtual ~ServerSockets() = default;
    virtual QString name() const = 0;
    // Takes an accepted socket descriptor as connection `id` and gives its peer. false with
    // *error when it cannot (the descriptor is closed then).
    virtual bool adopt(quint64 id, qintptr descriptor, QHostAddress *peer, quint16 *peerPort, QString *error) = 0;
    // What read() returns besides a byte count.
    enum : qsizetype { NothingNow = 0, Closed = -1, Error = -2 };
    // Reads up to `max` bytes: the count, NothingNow, Closed (the peer closed or reset the
    // connection) or Error (*error says why). After Closed or Error, close(id) is the
    // caller's.
    virtual qsizetype read(quint64 id, char *buffer, qsizetype max, QString *error) = 0;
    // Stops (true) or resumes reports of bytes to read for `id` (the server serves peers
    // that have not logged in from a budget of its own).
    virtual void pauseReading(quint64 id, bool paused) = 0;
    // Queues bytes for `id`; flush() sends what was queued, one write per connection.
    virtual void write(quint64 id, const QByteArray &bytes) = 0;
    virtual void flush() = 0;
    // Bytes queued for `id` that the kernel has not taken yet.
    virtual qint64 bytesToWrite(quint64 id) const = 0;
    // Forgets `id`. graceful: what is queued still goes out first (for at most 5 s), then the
    // connection is closed; else at once. Nothing is reported for `id` afterwards.
    virtual void close(quint64 id, bool graceful) = 0;
    // Connections open, including those still sending their last bytes (tests).
    virtual int openCount() const = 0;
};

std::unique_ptr<ServerSockets> makeQtServerSockets(SocketsClient *client);
// Linux only; nullptr with *error elsewhere or when epoll is not available.
std::unique_ptr<ServerSockets> makeEpollServerSockets(SocketsClient *client, QString *error);
// What TRACKERDESK_SERVER_SOCKETS asks for ("qt" or "epoll"), else epoll where there is one.
std::unique_ptr<ServerSockets> makeServerSockets(SocketsClient *client, QString *note);

} // namespace td::server
