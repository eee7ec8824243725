// The portable ServerSockets (see serversockets.h): one QTcpSocket per connection.
#include "server/serversockets.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTcpSocket>
#include <QTimer>

namespace td::server {

namespace {

constexpr int kReadBuffer = 64 * 1024;   // what a socket buffers before it stops reading

class QtServerSockets final : public ServerSockets {
public:
    explicit QtServerSockets(SocketsClient *client) : m_client(client) {}
    ~QtServerSockets() override {
        const auto sockets = m_sockets;
        for (QTcpSocket *s : sockets) {
            s->disconnect(&m_context);
            s->abort();
            delete s;
        }
        qDeleteAll(std::exchange(m_closing, {}));
    }

    QString name() const override { return QStringLiteral("qt"); }

    bool adopt(quint64 id, qintptr descriptor, QHostAddress *peer, quint16 *peerPort, QString *error) override {
        auto *s = new QTcpSocket;
        if (!s->setSocketDescriptor(descriptor)) {
            if (error)
                *error = s->errorString();
            delete s;
            return false;
        }
        s->setReadBufferSize(kReadBuffer);
        *peer = s->peerAddress();
        *peerPort = s->peerPort();
        QObject::connect(s, &QTcpSocket::readyRead, &m_context, [this, id] {
            m_client->socketReadable(id);
            m_client->socketsBatchDone();
        });
        // The end of the stream (and a reset, which Qt reports the same way) is found by
        // read(); other errors end the connection here.
        QObject::connect(s, &QTcpSocket::disconnected, &m_context, [this, id] {
            m_client->socketReadable(id);
            m_client->socketsBatchDone();
        });
        QObject::connect(s, &QAbstractSocket::errorOccurred, &m_context, [this, id, s](QAbstractSocket::SocketError e) {
            if (e == QAbstractSocket::RemoteHostClosedError)
                return;
            const QString why = QStringLiteral("socket error: %1").arg(s->errorString());
            close(id, false);
            m_client->socketFailed(id, why);
        });
        m_sockets.insert(id, s);
        return true;
    }

    qsizetype read(quint64 id, char *buffer, qsizetype max, QString *error) override {
        QTcpSocket *s = m_sockets.value(id);
        if (!s)
            return Closed;
        if (s->bytesAvailable() > 0) {
            const qint64 n = s->read(buffer, max);
            if (n >= 0)
                return qsizetype(n);
            if (error)
                *error = s->errorString();
            return Error;
        }
        return s->state() == QAbstractSocket::ConnectedState ? qsizetype(NothingNow) : qsizetype(Closed);
    }

    // A QTcpSocket stops reading by itself once its buffer is full; readyRead() comes
    // again only for new bytes, which the server treats as a resumed report.
    void pauseReading(quint64, bool) override {}

    void write(quint64 id, const QByteArray &bytes) override {
        if (QTcpSocket *s = m_sockets.value(id))
            s->write(bytes);  // sent by the event loop's next turn
    }

    void flush() override {}

    qint64 bytesToWrite(quint64 id) const override {
        const QTcpSocket *s = m_sockets.value(id);
        return s ? s->bytesToWrite() : 0;
    }

    void close(quint64 id, bool graceful) override {
        QTcpSocket *s = m_sockets.take(id);
        if (!s)
            return;
        s->disconnect(&m_context);
        if (graceful && s->state() == QAbstractSocket::ConnectedState) {
            // Let the bytes already written go out, then close; bounded in time.
            m_closing.insert(s);
            QObject::connect(s, &QAbstractSocket::disconnected, &m_context, [this, s] { forget(s); });
            QTimer::singleShot(5000, &m_context, [this, s] {
                if (m_closing.contains(s)) {
                    s->abort();
                    forget(s);
                }
            });
            s->disconnectFromHost();
        } else {
            s->abort();
            s->deleteLater();  // the caller may be inside one of its signals
        }
    }

    int openCount() const override { return int(m_sockets.size() + m_closing.size()); }

private:
    void forget(QTcpSocket *s) {
        if (m_closing.remove(s))
            s->deleteLater();
    }

    SocketsClient *m_client;
    QObject m_context;  // receiver of the sockets' signals: gone with the sockets
    QHash<quint64, QTcpSocket *> m_sockets;
    QSet<QTcpSocket *> m_closing;
};

} // namespace

std::unique_ptr<ServerSockets> makeQtServerSockets(SocketsClient *client) { return std::make_unique<QtServerSockets>(client); }

std::unique_ptr<ServerSockets> makeServerSockets(SocketsClient *client, QString *note) {
    const QByteArray wanted = qgetenv("TRACKERDESK_SERVER_SOCKETS").trimmed().toLower();
    if (wanted != "qt") {
        QString error;
        if (auto s = makeEpollServerSockets(client, &error))
            return s;
        if (note && wanted == "epoll")
            *note = QStringLiteral("epoll sockets not available (%1); using Qt sockets").arg(error);
    }
    return makeQtServerSockets(client);
}

#ifndef Q_OS_LINUX
std::unique_ptr<ServerSockets> makeEpollServerSockets(SocketsClient *, QString *error) {
    if (error)
        *error = QStringLiteral("epoll is Linux only");
    return nullptr;
}
#endif

} // namespace td::server
