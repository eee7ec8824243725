// How the simulator's devices reach the server: one TCP connection per device, addressed
// by the device index ("conn"). Two implementations behind one small interface:
//  - Qt: one QTcpSocket per connection on the Qt event loop (portable);
//  - epoll (Linux): raw non-blocking sockets registered in one epoll instance; the Qt event
//    loop watches only the epoll fd (one QSocketNotifier), and on activation the transport
//    asks epoll for the sockets that are ready. With a thousand connections this saves the
//    poll() over every socket at each wake-up of Qt's event dispatcher.
// The device logic (login, fixes, acks, resends, ...) lives in the Simulator and is the
// same for both.
#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>

#include <memory>

class QObject;

namespace td::sim {

// What a transport reports, from the event loop (an activation of a socket or of the epoll
// fd). The epoll transport never calls it from inside connectTo() / send() / close();
// QTcpSocket may report some failures of connectToHost() at once, so a client must accept
// transportClosed() for a connection it is still opening.
class TransportClient {
public:
    // The TCP connection of `conn` is established.
    virtual void transportConnected(int conn) = 0;
    // Bytes from the server, in order.
    virtual void transportData(int conn, const char *data, qsizetype size) = 0;
    // The connection failed or was closed by the server; the transport has already
    // forgotten it (a later connectTo() starts a new one).
    virtual void transportClosed(int conn, const QString &why) = 0;

protected:
    ~TransportClient() = default;
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual QString name() const = 0;
    // Starts connecting `conn` (closing what it had). false with *error when it fails at
    // once (no address for the host, no sockets left); otherwise transportConnected() or
    // transportClosed() follows.
    virtual bool connectTo(int conn, const QString &host, quint16 port, QString *error) = 0;
    // Queues bytes for the server (in order). Failures are reported later through
    // transportClosed(); bytes for a connection that is not open are dropped.
    virtual void send(int conn, const QByteArray &bytes) = 0;
    // Closes `conn` at once, dropping unsent bytes; nothing is reported for it afterwards.
    virtual void close(int conn) = 0;
    // Connections open or being opened (tests).
    virtual int openCount() const = 0;
    // Bytes of `conn` accepted by send() that the kernel has not taken yet (tests).
    virtual qint64 bytesToWrite(int conn) const = 0;
};

// One QTcpSocket per connection, owned by the transport.
std::unique_ptr<Transport> makeQtTransport(TransportClient *client);

#ifdef Q_OS_LINUX
// One epoll instance watched by one QSocketNotifier on the calling thread. nullptr with
// *error when the epoll instance cannot be created.
std::unique_ptr<Transport> makeEpollTransport(TransportClient *client, QString *error);
#endif

} // namespace td::sim
