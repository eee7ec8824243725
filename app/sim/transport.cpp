// The portable transport: one QTcpSocket per connection (see transport.h).
#include "sim/transport.h"

#include <QObject>
#include <QTcpSocket>

#include <vector>

namespace td::sim {

namespace {

class QtTransport final : public QObject, public Transport {
public:
    explicit QtTransport(TransportClient *client) : m_client(client) {}
    ~QtTransport() override {
        for (size_t i = 0; i < m_sockets.size(); ++i)
            close(int(i));
    }

    QString name() const override { return QStringLiteral("qt"); }

    bool connectTo(int conn, const QString &host, quint16 port, QString *error) override {
        if (conn < 0) {
            if (error)
                *error = QStringLiteral("no connection %1").arg(conn);
            return false;
        }
        close(conn);
        if (size_t(conn) >= m_sockets.size())
            m_sockets.resize(size_t(conn) + 1, nullptr);
        auto *s = new QTcpSocket(this);
        m_sockets[size_t(conn)] = s;
        ++m_open;
        connect(s, &QTcpSocket::connected, this, [this, conn, s] {
            if (current(conn) != s)
                return;
            s->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            m_client->transportConnected(conn);
        });
        connect(s, &QTcpSocket::readyRead, this, [this, conn, s] {
            if (current(conn) != s)
                return;
            const QByteArray data = s->readAll();
            if (!data.isEmpty())
                m_client->transportData(conn, data.constData(), data.size());
        });
        connect(s, &QTcpSocket::disconnected, this, [this, conn, s] { closed(conn, s, QStringLiteral("closed by the server")); });
        connect(s, &QAbstractSocket::errorOccurred, this, [this, conn, s](QAbstractSocket::SocketError) {
            closed(conn, s, s->errorString());
        });
        s->connectToHost(host, port);
        return true;
    }

    void send(int conn, const QByteArray &bytes) override {
        if (QTcpSocket *s = current(conn))
            s->write(bytes);
    }

    void close(int conn) override {
        QTcpSocket *s = current(conn);
        if (!s)
            return;
        m_sockets[size_t(conn)] = nullptr;
        --m_open;
        s->disconnect(this);
        s->abort();
        s->deleteLater();
    }

    int openCount() const override { return m_open; }

    qint64 bytesToWrite(int conn) const override {
        const QTcpSocket *s = current(conn);
        return s ? s->bytesToWrite() : 0;
    }

private:
    QTcpSocket *current(int conn) const {
        return conn >= 0 && size_t(conn) < m_sockets.size() ? m_sockets[size_t(conn)] : nullptr;
    }
    void closed(int conn, QTcpSocket *s, const QString &why) {
        if (current(conn) != s)
            return;  // already reported (errorOccurred and disconnected both come)
        close(conn);
        m_client->transportClosed(conn, why);
    }

    TransportClient *m_client;
    std::vector<QTcpSocket *> m_sockets;
    int m_open = 0;
};

} // namespace

std::unique_ptr<Transport> makeQtTransport(TransportClient *client) {
    return std::make_unique<QtTransport>(client);
}

} // namespace td::sim
