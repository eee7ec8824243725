// The server's socket layer (app/server/serversockets*) on its own, both implementations,
// over real loopback connections: what is read and written arrives in order, paused reading
// is not reported, a graceful close still delivers what was queued, a reset peer ends the
// connection.
#include "server/serversockets.h"

#include <QtTest>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace td::server;

namespace {

// A connected loopback pair: the server end (to adopt) and the client end (non-blocking).
struct Pair {
    int server = -1;
    int client = -1;
    bool open() {
        const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (l < 0 || ::bind(l, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(l, 1) != 0
            || ::getsockname(l, reinterpret_cast<sockaddr *>(&a), &len) != 0)
            return false;
        client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (client < 0 || ::connect(client, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
            return false;
        server = ::accept(l, nullptr, nullptr);
        ::close(l);
        ::fcntl(client, F_SETFL, ::fcntl(client, F_GETFL) | O_NONBLOCK);
        return server >= 0;
    }
    ~Pair() {
        if (client >= 0)
            ::close(client);
    }
    // The client resets the connection (RST, not FIN).
    void reset() {
        const linger l{1, 0};
        ::setsockopt(client, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(client);
        client = -1;
    }
    void send(const QByteArray &b) const { QCOMPARE(::send(client, b.constData(), size_t(b.size()), MSG_NOSIGNAL), ssize_t(b.size())); }
    // What the client has received so far; *eof when the server closed.
    QByteArray receive(bool *eof = nullptr) const {
        QByteArray out;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(client, buf, sizeof buf, 0);
            if (n > 0) {
                out.append(buf, n);
                continue;
            }
            if (n == 0 && eof)
                *eof = true;
            return out;
        }
    }
};

class Client final : public SocketsClient {
public:
    QList<quint64> readable;
    QList<QPair<quint64, QString>> failed;
    int batches = 0;
    void socketReadable(quint64 id) override { readable << id; }
    void socketFailed(quint64 id, const QString &why) override { failed.append({id, why}); }
    void socketsBatchDone() override { ++batches; }
};

std::unique_ptr<ServerSockets> make(const QString &kind, Client *c) {
    QString error;
    if (kind == QLatin1String("epoll"))
        return makeEpollServerSockets(c, &error);
    return makeQtServerSockets(c);
}

// Reads what `id` has: waits (up to 2 s) for the first bytes, then takes what follows
// until nothing more is there.
QByteArray readAll(ServerSockets &s, quint64 id) {
    QByteArray out;
    char buf[4096];
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 2000) {
        const qsizetype n = s.read(id, buf, sizeof buf, nullptr);
        if (n > 0)
            out.append(buf, n);
        else if (n < 0 || !out.isEmpty())
            break;
        else
            QTest::qWait(10);
    }
    return out;
}

// Opens `p` and hands its server end to `sockets` as connection `id`.
bool adoptPair(ServerSockets &sockets, quint64 id, Pair &p) {
    QHostAddress peer;
    quint16 port = 0;
    return p.open() && sockets.adopt(id, p.server, &peer, &port, nullptr);
}

} // namespace

class TestServerSockets : public QObject {
    Q_OBJECT
private slots:
    void readWriteInOrder_data();
    void readWriteInOrder();
    void pausedReadingIsNotReported();
    void gracefulCloseDeliversWhatWasQueued_data();
    void gracefulCloseDeliversWhatWasQueued();
    void resetPeerEndsTheConnection_data();
    void resetPeerEndsTheConnection();
};

void TestServerSockets::readWriteInOrder_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("epoll") << QStringLiteral("epoll");
    QTest::newRow("qt") << QStringLiteral("qt");
}

void TestServerSockets::readWriteInOrder() {
    QFETCH(QString, kind);
    Client client;
    auto sockets = make(kind, &client);
    QVERIFY(sockets);
    QCOMPARE(sockets->name(), kind);
    Pair p;
    QVERIFY(p.open());
    QHostAddress peer;
    quint16 port = 0;
    QString error;
    QVERIFY2(sockets->adopt(7, p.server, &peer, &port, &error), qPrintable(error));
    QCOMPARE(peer.toIPv4Address(), quint32(INADDR_LOOPBACK));
    QVERIFY(port != 0);
    QCOMPARE(sockets->openCount(), 1);

    p.send("login");
    QTRY_VERIFY(client.readable.contains(7));
    QCOMPARE(readAll(*sockets, 7), QByteArray("login"));

    // Two replies queued, one flush: both arrive, in order.
    sockets->write(7, "ack1;");
    sockets->write(7, "ack2;");
    sockets->flush();
    QByteArray got;
    QTRY_COMPARE((got += p.receive()), QByteArray("ack1;ack2;"));
    QCOMPARE(sockets->bytesToWrite(7), 0);

    sockets->close(7, false);
    QCOMPARE(sockets->openCount(), 0);
    bool eof = false;
    QTRY_VERIFY((p.receive(&eof), eof));
    // Nothing is reported for a closed connection.
    client.readable.clear();
    QTest::qWait(50);
    QVERIFY(client.readable.isEmpty());
    QVERIFY(client.failed.isEmpty());
}

void TestServerSockets::pausedReadingIsNotReported() {
    Client client;
    auto sockets = make(QStringLiteral("epoll"), &client);
    QVERIFY(sockets);
    Pair p;
    QVERIFY(adoptPair(*sockets, 1, p));
    sockets->pauseReading(1, true);
    p.send("waiting");
    QTest::qWait(150);
    QVERIFY(client.readable.isEmpty());   // level-triggered epoll would report it every turn
    sockets->pauseReading(1, false);
    QTRY_VERIFY(client.readable.contains(1));
    QCOMPARE(readAll(*sockets, 1), QByteArray("waiting"));
    // A reset while paused: not reported (and no busy loop) until reading resumes.
    sockets->pauseReading(1, true);
    client.readable.clear();
    p.reset();
    const int batchesBefore = client.batches;
    QTest::qWait(150);
    QVERIFY(client.readable.isEmpty());
    QVERIFY2(client.batches - batchesBefore < 5, qPrintable(QString::number(client.batches - batchesBefore)));
    sockets->pauseReading(1, false);
    QTRY_VERIFY(client.readable.contains(1));
    char buf[16];
    QCOMPARE(sockets->read(1, buf, sizeof buf, nullptr), qsizetype(ServerSockets::Closed));
}

void TestServerSockets::gracefulCloseDeliversWhatWasQueued_data() { readWriteInOrder_data(); }

void TestServerSockets::gracefulCloseDeliversWhatWasQueued() {
    QFETCH(QString, kind);
    Client client;
    auto sockets = make(kind, &client);
    Pair p;
    QVERIFY(adoptPair(*sockets, 3, p));
    // More than the kernel takes at once while the client is not reading.
    QByteArray big(32 * 1024 * 1024, Qt::Uninitialized);
    for (qsizetype i = 0; i < big.size(); ++i)
        big[i] = char(i * 7 + i / 4096);
    sockets->write(3, big);
    sockets->flush();
    QTest::qWait(20);
    QVERIFY(sockets->bytesToWrite(3) > 0);
    sockets->close(3, true);
    QByteArray got;
    bool eof = false;
    QElapsedTimer t;
    t.start();
    while (!eof && t.elapsed() < 5000) {
        got += p.receive(&eof);
        QTest::qWait(1);
    }
    QVERIFY(eof);
    QCOMPARE(got.size(), big.size());
    QVERIFY(got == big);
    QTRY_COMPARE(sockets->openCount(), 0);
}

void TestServerSockets::resetPeerEndsTheConnection_data() { readWriteInOrder_data(); }

void TestServerSockets::resetPeerEndsTheConnection() {
    QFETCH(QString, kind);
    Client client;
    auto sockets = make(kind, &client);
    Pair p;
    QVERIFY(adoptPair(*sockets, 9, p));
    p.reset();
    QTRY_VERIFY(client.readable.contains(9) || !client.failed.isEmpty());
    if (client.failed.isEmpty()) {
        char buf[16];
        QString error;
        const qsizetype n = sockets->read(9, buf, sizeof buf, &error);
        QVERIFY2(n == ServerSockets::Closed || n == ServerSockets::Error, qPrintable(QString::number(n)));
    }
    sockets->close(9, false);
    QCOMPARE(sockets->openCount(), 0);
}

QTEST_GUILESS_MAIN(TestServerSockets)
#include "tst_serversockets.moc"
