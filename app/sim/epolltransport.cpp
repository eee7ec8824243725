// The Linux transport (see transport.h): raw non-blocking sockets in one epoll instance.
// The Qt event loop watches the epoll fd only (one QSocketNotifier, level-triggered); each
// activation takes up to kBatch ready sockets with epoll_wait(..., 0) and handles them.
//  - connect: non-blocking; completion (or failure) is EPOLLOUT + SO_ERROR;
//  - send: straight to ::send(); what the kernel does not take waits in the connection's
//    output buffer, EPOLLOUT is watched until it is empty; a failed send is reported from
//    the event loop (queued), never from inside send(). Bytes sent while the transport
//    handles a batch of ready sockets (a device answering the acks it just read) go out
//    with one ::send() per connection at the end of that batch, as QTcpSocket flushes once
//    per event-loop turn: one segment for several frames, fewer wake-ups for the server;
//  - receive: one recv() of up to 64 KB per readiness (level-triggered: the rest is
//    reported again); 0 bytes = closed by the server.
// Every epoll registration carries the connection's generation, so that an event of a
// socket closed (and perhaps reopened) while handling the same batch is ignored.
#include <QtGlobal>

#ifdef Q_OS_LINUX

#include "net/posixsocket.h"
#include "sim/transport.h"

#include <QHash>
#include <QHostAddress>
#include <QHostInfo>
#include <QSocketNotifier>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace td::sim {

namespace {

using net::errnoText;

class EpollTransport final : public Transport {
public:
    EpollTransport(TransportClient *client, int epfd) : m_client(client), m_epfd(epfd), m_events(kBatch) {
        m_notifier = std::make_unique<QSocketNotifier>(qintptr(m_epfd), QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, m_notifier.get(), [this] { onActivated(); });
    }
    ~EpollTransport() override {
        m_notifier.reset();
        for (size_t i = 0; i < m_conns.size(); ++i)
            close(int(i));
        ::close(m_epfd);
    }

    QString name() const override { return QStringLiteral("epoll"); }

    bool connectTo(int conn, const QString &host, quint16 port, QString *error) override {
        auto fail = [error](const QString &why) {
            if (error)
                *error = why;
            return false;
        };
        if (conn < 0)
            return fail(QStringLiteral("no connection %1").arg(conn));
        close(conn);
        if (size_t(conn) >= m_conns.size())
            m_conns.resize(size_t(conn) + 1);
        QString why;
        const QHostAddress address = resolve(host, &why);
        if (address.isNull())
            return fail(why);
        sockaddr_storage sa{};
        socklen_t saLen = 0;
        if (address.protocol() == QAbstractSocket::IPv4Protocol) {
            auto *in = reinterpret_cast<sockaddr_in *>(&sa);
            in->sin_family = AF_INET;
            in->sin_port = htons(port);
            in->sin_addr.s_addr = htonl(address.toIPv4Address());
            saLen = sizeof(sockaddr_in);
        } else {
            auto *in6 = reinterpret_cast<sockaddr_in6 *>(&sa);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(port);
            const Q_IPV6ADDR a = address.toIPv6Address();
            std::memcpy(in6->sin6_addr.s6_addr, a.c, 16);
            bool numeric = false;
            in6->sin6_scope_id = address.scopeId().toUInt(&numeric);
            if (!numeric && !address.scopeId().isEmpty())
                in6->sin6_scope_id = ::if_nametoindex(address.scopeId().toLocal8Bit().constData());
            saLen = sizeof(sockaddr_in6);
        }
        const int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return fail(QStringLiteral("cannot create a socket: %1").arg(errnoText(errno)));
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&sa), saLen) != 0 && errno != EINPROGRESS) {
            const int e = errno;
            ::close(fd);
            return fail(QStringLiteral("cannot connect to %1:%2: %3").arg(host).arg(port).arg(errnoText(e)));
        }
        Conn &c = m_conns[size_t(conn)];
        c.fd = fd;
        ++c.generation;
        c.connecting = true;
        c.out.clear();
        c.outPos = 0;
        // Connected (or failed) is reported as writable.
        c.interest = EPOLLOUT;
        if (!control(EPOLL_CTL_ADD, conn, c)) {
            const int e = errno;
            ::close(fd);
            c.fd = -1;
            return fail(QStringLiteral("epoll: %1").arg(errnoText(e)));
        }
        ++m_open;
        return true;
    }

    void send(int conn, const QByteArray &bytes) override {
        Conn *c = find(conn);
        if (!c || c->failed || bytes.isEmpty())
            return;
        if (c->connecting || c->outPos < c->out.size() || m_inBatch) {
            if (c->outPos > 0 && c->outPos >= c->out.size() / 2) {
                c->out.remove(0, c->outPos);
                c->outPos = 0;
            }
            c->out.append(bytes);  // behind what waits already
            if (m_inBatch && !c->connecting && !c->dirty) {
                c->dirty = true;
                m_dirty.push_back(conn);
            }
            return;
        }
        int error = 0;
        const qsizetype done = net::sendSome(c->fd, bytes.constData(), bytes.size(), &error);
        if (error) {
            failLater(conn, *c, QStringLiteral("cannot send: %1").arg(errnoText(error)));
            return;
        }
        if (done < bytes.size()) {
            c->out = bytes.mid(done);
            c->outPos = 0;
            watch(conn, *c, EPOLLIN | EPOLLOUT);
        }
    }

    void close(int conn) override {
        Conn *c = find(conn);
        if (!c)
            return;
        ::epoll_ctl(m_epfd, EPOLL_CTL_DEL, c->fd, nullptr);
        ::close(c->fd);
        c->fd = -1;
        ++c->generation;
        c->connecting = false;
        c->failed = false;
        c->dirty = false;
        c->interest = 0;
        c->out = QByteArray();
        c->outPos = 0;
        --m_open;
    }

    int openCount() const override { return m_open; }

    qint64 bytesToWrite(int conn) const override {
        if (conn < 0 || size_t(conn) >= m_conns.size() || m_conns[size_t(conn)].fd < 0)
            return 0;
        const Conn &c = m_conns[size_t(conn)];
        return c.out.size() - c.outPos;
    }

private:
    static constexpr int kBatch = 512;
    static constexpr size_t kReadSize = 65536;

    struct Conn {
        int fd = -1;
        quint32 generation = 0;
        quint32 interest = 0;       // the epoll events registered
        bool connecting = false;
        bool failed = false;        // a send failed; the close is reported from the event loop
        bool dirty = false;         // in m_dirty: bytes to send at the end of the batch
        QByteArray out;             // bytes the kernel has not taken yet, from outPos on
        qsizetype outPos = 0;
    };

    Conn *find(int conn) {
        if (conn < 0 || size_t(conn) >= m_conns.size())
            return nullptr;
        Conn &c = m_conns[size_t(conn)];
        return c.fd >= 0 ? &c : nullptr;
    }

    bool control(int op, int conn, Conn &c) {
        epoll_event ev{};
        ev.events = c.interest;
        ev.data.u64 = (quint64(c.generation) << 32) | quint32(conn);
        return ::epoll_ctl(m_epfd, op, c.fd, &ev) == 0;
    }

    void watch(int conn, Conn &c, quint32 events) {
        if (c.interest == events)
            return;
        c.interest = events;
        if (!control(EPOLL_CTL_MOD, conn, c))
            failLater(conn, c, QStringLiteral("epoll: %1").arg(errnoText(errno)));
    }

    // Closes the connection and tells the client.
    void fail(int conn, const QString &why) {
        close(conn);
        m_client->transportClosed(conn, why);
    }

    // A failure found inside send(): reported from the event loop, as the contract says.
    void failLater(int conn, Conn &c, const QString &why) {
        if (c.failed)
            return;
        c.failed = true;
        c.out = QByteArray();
        c.outPos = 0;
        // No more events for it (a reset socket would be reported at every activation).
        ::epoll_ctl(m_epfd, EPOLL_CTL_DEL, c.fd, nullptr);
        c.interest = 0;
        const quint32 generation = c.generation;
        QMetaObject::invokeMethod(m_notifier.get(), [this, conn, generation, why] {
            Conn *c = find(conn);
            if (c && c->generation == generation)
                fail(conn, why);
        }, Qt::QueuedConnection);
    }

    // Writes what waits; false: failed (reported).
    bool flush(int conn, Conn &c) {
        int error = 0;
        c.outPos += net::sendSome(c.fd, c.out.constData() + c.outPos, c.out.size() - c.outPos, &error);
        if (error) {
            fail(conn, QStringLiteral("cannot send: %1").arg(errnoText(error)));
            return false;
        }
        if (c.outPos < c.out.size()) {
            watch(conn, c, EPOLLIN | EPOLLOUT);
            return true;
        }
        c.out.clear();
        c.outPos = 0;
        watch(conn, c, EPOLLIN);
        return true;
    }

    QHostAddress resolve(const QString &host, QString *why) {
        const auto it = m_resolved.constFind(host);
        if (it != m_resolved.constEnd())
            return *it;
        QHostAddress a;
        if (!a.setAddress(host)) {
            // A name: looked up once (blocking), then remembered.
            const QHostInfo info = QHostInfo::fromName(host);
            for (const QHostAddress &candidate : info.addresses())
                if (a.isNull() || (a.protocol() != QAbstractSocket::IPv4Protocol && candidate.protocol() == QAbstractSocket::IPv4Protocol))
                    a = candidate;
            if (a.isNull()) {
                *why = QStringLiteral("cannot find the address of %1: %2").arg(host, info.errorString());
                return a;
            }
        }
        if (a.protocol() != QAbstractSocket::IPv4Protocol && a.protocol() != QAbstractSocket::IPv6Protocol) {
            *why = QStringLiteral("%1 is no IPv4 or IPv6 address").arg(host);
            return QHostAddress();
        }
        m_resolved.insert(host, a);
        return a;
    }

    void onActivated() {
        const int n = ::epoll_wait(m_epfd, m_events.data(), kBatch, 0);
        m_inBatch = true;
        for (int i = 0; i < n; ++i) {
            const int conn = int(quint32(m_events[size_t(i)].data.u64 & 0xFFFFFFFFu));
            const quint32 generation = quint32(m_events[size_t(i)].data.u64 >> 32);
            handle(conn, generation, m_events[size_t(i)].events);
        }
        m_inBatch = false;
        // What the handlers sent: one ::send() per connection. A failure is reported here
        // (fail() may lead the client to close or open connections: m_dirty is taken first).
        const std::vector<int> dirty = std::exchange(m_dirty, {});
        for (int conn : dirty) {
            Conn *c = find(conn);
            if (!c || !c->dirty)
                continue;  // closed since (a reopened connection is not dirty)
            c->dirty = false;
            if (!c->connecting && !c->failed && c->outPos < c->out.size())
                flush(conn, *c);
        }
    }

    void handle(int conn, quint32 generation, quint32 events) {
        Conn *c = find(conn);
        if (!c || c->generation != generation || c->failed)
            return;  // closed (and perhaps reopened) since epoll_wait, or failing
        if (c->connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            if (::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
            if (err != 0) {
                fail(conn, errnoText(err));
                return;
            }
            if (!(events & EPOLLOUT)) {
                fail(conn, QStringLiteral("connection closed while connecting"));
                return;
            }
            c->connecting = false;
            if (c->out.isEmpty())
                watch(conn, *c, EPOLLIN);
            else if (!flush(conn, *c))
                return;
            m_client->transportConnected(conn);
            return;  // anything to read is reported by the next epoll_wait
        }
        if ((events & EPOLLOUT) && c->outPos < c->out.size()) {
            if (!flush(conn, *c))
                return;
        }
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            const ssize_t n = ::recv(c->fd, m_readBuffer, kReadSize, 0);
            if (n > 0)
                m_client->transportData(conn, m_readBuffer, qsizetype(n));
            else if (n == 0)
                fail(conn, QStringLiteral("closed by the server"));
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fail(conn, errnoText(errno));
        }
    }

    TransportClient *m_client;
    int m_epfd;
    std::unique_ptr<QSocketNotifier> m_notifier;
    std::vector<Conn> m_conns;
    std::vector<epoll_event> m_events;
    std::vector<int> m_dirty;       // connections with bytes sent during the current batch
    bool m_inBatch = false;
    QHash<QString, QHostAddress> m_resolved;
    int m_open = 0;
    char m_readBuffer[kReadSize];
};

} // namespace

std::unique_ptr<Transport> makeEpollTransport(TransportClient *client, QString *error) {
    const int epfd = net::createEpoll(error);
    return epfd < 0 ? nullptr : std::make_unique<EpollTransport>(client, epfd);
}

} // namespace td::sim

#endif // Q_OS_LINUX
